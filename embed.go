// Package portal embeds the content, quizzes and static files shipped in the
// binary. It sits at the top of the module because Go's embed cannot reach "..".
package portal

import "embed"

// Assets holds content/, quizzes/ and static/.
//
//go:embed content quizzes static
var Assets embed.FS
