package storage

import "conductportal/server/model"

// PacksWhole reports whether the progress cache keeps p whole rather
// than packed.
func PacksWhole(p model.Progress) bool { return pack(p, slugs{}).whole != nil }
