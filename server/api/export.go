package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"conductportal/server/audit"
	"conductportal/server/checkpoint"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

// Exports are NDJSON: one JSON object a line, streamed from a database
// cursor as it is read, so memory stays flat however many lines there are.

const (
	mimeNDJSON = "application/x-ndjson"
	// exportTimeout bounds one stream: it outlives the request's deadline,
	// which ends when the handler returns and the writing begins.
	exportTimeout = 30 * time.Minute
	flushEvery    = 200
)

// parseSince reads ?since= as RFC 3339 or a date (UTC midnight).
func parseSince(c *fiber.Ctx) (time.Time, error) {
	s := c.Query("since")
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fail(fiber.StatusBadRequest, "invalid", "since must be a date like 2026-01-31 or a time like 2026-01-31T08:00:00Z", "since")
}

// stream answers NDJSON written by walk; walk's emit writes one line. An
// error once lines are sent cannot change the status: it is logged, and
// the stream ends without its last line, which a client detects.
func (a *API) stream(c *fiber.Ctx, what string, walk func(ctx context.Context, emit func(v any) error) error) {
	c.Set(fiber.HeaderContentType, mimeNDJSON)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		enc := json.NewEncoder(w)
		n := 0
		err := walk(ctx, func(v any) error {
			if err := enc.Encode(v); err != nil {
				return err
			}
			if n++; n%flushEvery == 0 {
				return w.Flush()
			}
			return nil
		})
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			a.Log.Warn("export stream ended early", "export", what, "lines", n, "err", err)
		}
	})
}

type receiptLine struct {
	ID        string    `json:"id"`
	Login     string    `json:"login"`
	Lesson    string    `json:"lesson"`
	Version   int       `json:"version"`
	Lang      string    `json:"lang"`
	TextHash  string    `json:"text_hash"`
	Signature string    `json:"signature"`
	At        time.Time `json:"at"`
	Client    string    `json:"client"`
	Agent     string    `json:"agent"`
	Seq       int       `json:"seq"`
	Cycle     int       `json:"cycle"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// receiptsExport answers GET /receipts?since=&lesson=: every receipt, oldest
// first, as NDJSON (HR).
func (a *API) receiptsExport(c *fiber.Ctx) error {
	since, err := parseSince(c)
	if err != nil {
		return err
	}
	f := model.ReceiptFilter{Since: since, Lesson: c.Query("lesson")}
	var d audit.Detail
	if s := c.Query("since"); s != "" {
		d = audit.Counts("since", s)
	}
	if err := a.Audit.Exported(c.UserContext(), a.actor(c), "receipts.export", f.Lesson, d); err != nil {
		return err
	}
	a.stream(c, "receipts", func(ctx context.Context, emit func(any) error) error {
		return a.Training.ExportReceipts(ctx, f, func(r *model.Receipt) error {
			return emit(receiptLine{ID: r.ID, Login: r.Login, Lesson: r.Lesson, Version: r.Version, Lang: r.Lang, TextHash: r.TextHash,
				Signature: r.Signature, At: r.At, Client: r.Client, Agent: r.Agent, Seq: r.Seq, Cycle: r.Cycle, PrevHash: r.PrevHash, Hash: r.Hash})
		})
	})
	return nil
}

type auditLine struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail"`
	// DetailKey and DetailArgs are the detail as data (see audit.Words).
	DetailKey  string    `json:"detail_key"`
	DetailArgs []string  `json:"detail_args"`
	Via        model.Via `json:"via"`
	Client     string    `json:"client"`
	Count      int       `json:"count"`
}

// auditLineOf is e as a line of the export.
func auditLineOf(e *model.AuditEntry) auditLine {
	args := e.DetailArgs
	if args == nil {
		args = []string{}
	}
	return auditLine{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail,
		DetailKey: e.DetailKey, DetailArgs: args, Via: e.Via, Client: e.Client, Count: e.Count}
}

// auditPageMax bounds limit on a page of the audit log.
const auditPageMax = 500

// auditExport answers GET /audit?since=&actor=&target=&action=: the audit log,
// oldest first, as NDJSON. With after or limit it answers one page
// instead, newest first as HR's audit page lists it (50 lines unless limit
// says otherwise), and when more follow a Link header to the next page.
func (a *API) auditExport(c *fiber.Ctx) error {
	since, err := parseSince(c)
	if err != nil {
		return err
	}
	f := model.AuditFilter{From: since, Actor: c.Query("actor"), Target: c.Query("target"), Action: c.Query("action")}
	if c.Query("after") != "" || c.Query("limit") != "" {
		return a.auditPage(c, f)
	}
	a.stream(c, "audit", func(ctx context.Context, emit func(any) error) error {
		return a.Audit.Export(ctx, f, func(e *model.AuditEntry) error {
			return emit(auditLineOf(e))
		})
	})
	return nil
}

// auditPage answers one page of the audit log, newest first, as NDJSON.
func (a *API) auditPage(c *fiber.Ctx, f model.AuditFilter) error {
	after, err := model.ParseCursor(c.Query("after"))
	if err != nil {
		return fail(fiber.StatusBadRequest, "invalid", "after is the cursor of a previous page's Link header", "after")
	}
	limit := 50
	if s := c.Query("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > auditPageMax {
			return fail(fiber.StatusBadRequest, "invalid", fmt.Sprintf("limit is a number from 1 to %d", auditPageMax), "limit")
		}
	}
	entries, more, err := a.Audit.Page(c.UserContext(), f, after, limit)
	if err != nil {
		return err
	}
	var b bytes.Buffer // this request's own: fasthttp keeps what it sends
	enc := json.NewEncoder(&b)
	for i := range entries {
		if err := enc.Encode(auditLineOf(&entries[i])); err != nil {
			return fmt.Errorf("api: audit page: %w", err)
		}
	}
	if more && len(entries) > 0 {
		last := entries[len(entries)-1]
		next := url.Values{"after": {model.Cursor{At: last.At, ID: last.ID}.String()}, "limit": {strconv.Itoa(limit)}}
		for _, k := range []string{"since", "actor", "target", "action"} {
			if v := c.Query(k); v != "" {
				next.Set(k, v)
			}
		}
		c.Set(fiber.HeaderLink, `</api/v1/audit?`+next.Encode()+`>; rel="next"`)
	}
	c.Set(fiber.HeaderContentType, mimeNDJSON)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b.Bytes())
}

// checkpoints answers GET /checkpoints: this instance's signed
// checkpoints, the lines of checkpoints.jsonl exactly as signed (so that
// `portal verify --checkpoints` checks the download), oldest first.
func (a *API) checkpoints(c *fiber.Ctx) error {
	r, size, err := checkpoint.Open(a.DataDir)
	if err != nil {
		return err
	}
	if err := a.Audit.Exported(c.UserContext(), a.actor(c), "checkpoints.export", "", audit.Counts("bytes", strconv.FormatInt(size, 10))); err != nil {
		_ = r.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, mimeNDJSON)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+checkpoint.File+`"`)
	// fasthttp closes the file once it is sent.
	return c.SendStream(r, int(size))
}
