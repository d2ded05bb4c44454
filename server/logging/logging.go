// Package logging builds the process's one slog.Logger: text or JSON, and
// every line logged with a request's context carries that request's id.
package logging

import (
	"context"
	"io"
	"log/slog"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// New returns a logger writing format ("json" or "text") to w.
func New(format string, w io.Writer) *slog.Logger {
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, nil)
	} else {
		h = slog.NewTextHandler(w, nil)
	}
	return slog.New(Handler{h})
}

// Handler adds request_id to every record logged with a context that
// carries one, so the code that logs need not pass it along.
type Handler struct{ Next slog.Handler }

// Enabled reports whether the next handler takes level l.
func (h Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.Next.Enabled(ctx, l) }

// Handle adds the request id, when ctx has one, and passes r on.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Next.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around the next handler.
func (h Handler) WithAttrs(a []slog.Attr) slog.Handler { return Handler{h.Next.WithAttrs(a)} }

// WithGroup keeps the wrapper around the next handler.
func (h Handler) WithGroup(n string) slog.Handler { return Handler{h.Next.WithGroup(n)} }
