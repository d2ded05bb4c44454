package storage

import (
	"context"
	"slices"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Lessons returns every lesson in order. Every page asks for them: the
// list is kept (see accessCache). A publish or a change of settings
// through this process drops it; one by another instance shows here
// within SharedStaleness (changes.go).
func (s *Storage) Lessons(ctx context.Context) ([]model.Lesson, error) {
	list, err := s.lessonList(ctx)
	return slices.Clone(list), err
}

// LessonsReadOnly returns the kept list of lessons itself, in order: the
// caller reads it and never changes it (or its lessons' maps), and it is
// not changed under the caller (a change replaces the list). For the
// hottest pages' reads, which copy the lessons they keep anyway.
func (s *Storage) LessonsReadOnly(ctx context.Context) ([]model.Lesson, error) {
	return s.lessonList(ctx)
}

// lessonList is the kept list of lessons itself: read it, never change
// it (Lesson copies the one it wants instead of the whole list).
func (s *Storage) lessonList(ctx context.Context) ([]model.Lesson, error) {
	if list, ok := s.lessons.getSettled(ctx, ""); ok {
		return list, nil
	}
	at, drops := s.lessons.begin()
	cur, err := s.c(colLessons).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "order", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap("lessons", err)
	}
	var out []model.Lesson
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("lessons", err)
	}
	s.lessons.put("", out, at, drops)
	return out, nil
}

// lessonsChanged drops the cached list after a write to a lesson.
func (s *Storage) lessonsChanged(ctx context.Context) {
	s.lessons.drop("")
	s.changed(ctx, changeLessons, "")
}

// DropCaches forgets what this process cached of sessions, users and
// lessons: for a change made to the database behind storage's back.
func (s *Storage) DropCaches() {
	s.dropKept()
	s.rebaseProgress(true) // a shared instance's pages read progress until the reports' copy is loaded again
	s.rcpts.forget()       // a restart loads it again; until then receipts are read
	s.loginIDs.Clear()
	if s.dir != nil {
		s.dir.write.Lock()
		s.dir.forget()
		s.dir.write.Unlock()
	}
	if s.auditIdx != nil {
		s.auditIdx.forget()
	}
}

// Lesson returns the lesson with slug, from the cached list when fresh.
func (s *Storage) Lesson(ctx context.Context, slug string) (*model.Lesson, error) {
	// The list is a handful of documents: reading all of them (kept)
	// saves the page views' reads by _id, two per lesson page (measured
	// with make bench's profiles).
	list, err := s.lessonList(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Slug == slug {
			l := list[i]
			return &l, nil
		}
	}
	// Not in the list: made after the list was read, by another instance.
	var l model.Lesson
	if err := s.c(colLessons).FindOne(ctx, bson.M{"_id": slug}).Decode(&l); err != nil {
		return nil, wrap("lesson", err)
	}
	return &l, nil
}

// CreateLessonVersion stores an immutable version; the same version twice
// gives model.ErrDuplicate.
func (s *Storage) CreateLessonVersion(ctx context.Context, v *model.LessonVersion) error {
	_, err := s.c(colLessonVersions).InsertOne(ctx, v)
	return wrap("create lesson version", err)
}

// LessonVersion returns version n of slug.
func (s *Storage) LessonVersion(ctx context.Context, slug string, n int) (*model.LessonVersion, error) {
	var v model.LessonVersion
	if err := s.c(colLessonVersions).FindOne(ctx, bson.M{"_id": model.VersionID(slug, n)}).Decode(&v); err != nil {
		return nil, wrap("lesson version", err)
	}
	return &v, nil
}

// PublishLesson makes l current. The version document must be stored
// first, so a reader never sees a lesson pointing at a missing version; the
// update only moves forward, so a slower, older publish cannot win.
func (s *Storage) PublishLesson(ctx context.Context, l *model.Lesson) error {
	defer s.lessonsChanged(ctx)
	filter := bson.M{"_id": l.Slug, "current": bson.M{"$lt": l.Current}}
	res, err := s.c(colLessons).UpdateOne(ctx, filter, bson.M{"$set": l})
	if err != nil {
		return wrap("publish lesson", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	_, err = s.c(colLessons).InsertOne(ctx, l)
	return wrap("publish lesson", err)
}

// SetLessonSettings changes a lesson's settings that are not part of its
// text: order, audience, due days and validity.
func (s *Storage) SetLessonSettings(ctx context.Context, slug string, order int, audience string, dueDays, validMonths int) error {
	defer s.lessonsChanged(ctx)
	res, err := s.c(colLessons).UpdateOne(ctx, bson.M{"_id": slug}, bson.M{"$set": bson.M{
		"order": order, "audience": audience, "due_days": dueDays, "valid_months": validMonths,
	}})
	if err != nil {
		return wrap("set lesson settings", err)
	}
	if res.MatchedCount == 0 {
		return wrap("set lesson settings", model.ErrNotFound)
	}
	return nil
}
