package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"conductportal/server/cli"
	"conductportal/server/config"
	"conductportal/server/model"
	"conductportal/server/training"
)

const departments = 50

// person is a seeded account the load can act as.
type person struct {
	login, name string
	cookie      string // session cookie value
	token       string // API token, for the quiz people only
}

// pair is a lesson a person has not started: the quiz, then the
// acknowledgement, is done once per pair.
type pair struct {
	who  *person
	slug string
}

// seeded is what the load needs to know of the seeded database.
type seeded struct {
	learners []*person // employees with a session
	managers []*person // team managers with a session
	hr       *person
	pairs    []pair
	slugs    []string
	dept     string // the department whose CSV HR exports

	// The database's own speed, measured from this process: one read of a
	// progress document by _id (the median of 200 in a row), and one read
	// of every user (a scan).
	idRead, scan time.Duration
}

// seed opens the database as the portal does (content imported, schema
// applied), then writes the people, their progress, receipts, sessions
// and tokens in bulk. Quiz attempts are not seeded: the start's drift
// check reports the people it samples (it repairs only progress behind
// its events, never ahead).
// startInProcess opens the portal of env in this process, quietly, with
// the reminder job off (to seed it or make accounts before bin/portal runs).
func startInProcess(ctx context.Context, env []string) (*cli.Server, error) {
	cfg, err := config.FromEnv(func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		if k == "PORTAL_REMINDER_JOB" {
			return "off"
		}
		return ""
	})
	if err != nil {
		return nil, err
	}
	return cli.Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
}

func seed(ctx context.Context, env []string, n int) (*seeded, error) {
	srv, err := startInProcess(ctx, env)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	lessons, err := srv.Store.Lessons(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	out := &seeded{dept: "dept-07"}
	for _, l := range lessons {
		out.slugs = append(out.slugs, l.Slug)
	}
	// Done lessons have their signed receipts, chained as the portal
	// chains them: lookups of receipts must stay quick when there are many.
	hashes := map[string]string{}
	for _, l := range lessons {
		v, err := srv.Training.Version(ctx, l.Slug, l.Current)
		if err != nil {
			return nil, err
		}
		t, _ := v.Text(model.LangZH)
		hashes[l.Slug] = t.Hash
	}
	var (
		users    []model.User
		progs    []model.Progress
		sessions []any
		tokens   []any
		receipts []any
	)
	session := func(u *model.User) string {
		tok := randomToken()
		// Last seen within the past minute, spread: in the steady state of
		// a busy portal, as many sessions come due for their once-a-minute
		// touch each second.
		seen := now.Add(-time.Duration(len(sessions)%60) * time.Second)
		sessions = append(sessions, &model.Session{ID: hashToken(tok), UserID: u.ID, CSRF: randomToken(),
			Created: now, LastSeen: seen, Expires: now.Add(7 * 24 * time.Hour)})
		return tok
	}
	// Employees in 50 departments, in teams of 30 under a manager; hired
	// over the last 120 days; a fifth of the lessons each of done, quiz
	// passed, read, and not started.
	quizPeople := min(n, 5000)
	for i := range n {
		u := model.User{
			ID: model.NewID(), Login: fmt.Sprintf("user%06d", i), Name: fmt.Sprintf("员工%06d", i),
			Roles: []string{model.RoleEmployee}, Department: fmt.Sprintf("dept-%02d", i%departments), Active: true,
			Manager: fmt.Sprintf("mgr%04d", i/30), Hired: now.AddDate(0, 0, -(i % 120)), Created: now,
		}
		lp := map[string]model.LessonProgress{}
		p := &person{login: u.Login, name: u.Name}
		var head *model.Receipt
		for j, l := range lessons {
			switch (i + j) % 5 {
			case 0, 1:
				r := &model.Receipt{ID: model.NewID(), UserID: u.ID, Login: u.Login, Lesson: l.Slug, Version: l.Current,
					Lang: model.LangZH, TextHash: hashes[l.Slug], Signature: u.Name, At: now.AddDate(0, 0, -(i % 60)), Seq: 1}
				if head != nil {
					r.Seq, r.PrevHash = head.Seq+1, head.Hash
				}
				r.Hash = training.ReceiptHash(r)
				receipts = append(receipts, r)
				head = r
				lp[l.Slug] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, AckVersion: 1, Attempts: 1,
					Acknowledged: r.At, Receipt: r.ID}
			case 2:
				lp[l.Slug] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, Attempts: 2}
			case 3:
				lp[l.Slug] = model.LessonProgress{ReadVersion: 1}
			default:
				if i < quizPeople {
					out.pairs = append(out.pairs, pair{who: p, slug: l.Slug})
				}
			}
		}
		users = append(users, u)
		prog := model.Progress{UserID: u.ID, Lessons: lp, Updated: now}
		if head != nil {
			prog.Head = head.ID
		}
		progs = append(progs, prog)
		if i < 5000 {
			p.cookie = session(&users[len(users)-1])
			out.learners = append(out.learners, p)
		}
		if i < quizPeople {
			p.token = "cp_" + randomToken()
			tokens = append(tokens, &model.APIToken{ID: hashToken(p.token), UserID: u.ID, Name: "bench", Created: now,
				LastUsed: now.Add(-time.Duration(i%60) * time.Second)})
		}
	}
	for m := 0; m <= (n-1)/30; m++ {
		u := model.User{ID: model.NewID(), Login: fmt.Sprintf("mgr%04d", m), Name: fmt.Sprintf("经理%04d", m),
			Roles: []string{model.RoleManager}, Department: fmt.Sprintf("dept-%02d", m%departments), Active: true,
			Hired: now.AddDate(-1, 0, 0), Created: now}
		users = append(users, u)
		if m < 1000 {
			out.managers = append(out.managers, &person{login: u.Login, name: u.Name, cookie: session(&users[len(users)-1])})
		}
	}
	hr := model.User{ID: model.NewID(), Login: "bench.hr", Name: "人事", Roles: []string{model.RoleHR},
		Active: true, Hired: now.AddDate(-1, 0, 0), Created: now}
	users = append(users, hr)
	out.hr = &person{login: hr.Login, name: hr.Name, cookie: session(&users[len(users)-1])}

	for chunk := range slices.Chunk(users, 1000) {
		if err := srv.Store.ImportUsers(ctx, chunk); err != nil {
			return nil, err
		}
	}
	for chunk := range slices.Chunk(progs, 1000) {
		if err := srv.Store.ImportProgress(ctx, chunk); err != nil {
			return nil, err
		}
	}
	for _, docs := range []struct {
		col  string
		docs []any
	}{{"sessions", sessions}, {"api_tokens", tokens}, {"receipts", receipts}} {
		for chunk := range slices.Chunk(docs.docs, 1000) {
			if _, err := srv.DB.Database.Collection(docs.col).InsertMany(ctx, chunk); err != nil {
				return nil, fmt.Errorf("seed %s: %w", docs.col, err)
			}
		}
	}
	// Lessons published long ago: people are due from their hire dates.
	if _, err := srv.DB.Database.Collection("lessons").UpdateMany(ctx, map[string]any{},
		map[string]any{"$set": map[string]any{"since": now.AddDate(-5, 0, 0)}}); err != nil {
		return nil, err
	}
	// One person's lessons apart in the queue, as people do them.
	mrand.Shuffle(len(out.pairs), func(i, j int) { out.pairs[i], out.pairs[j] = out.pairs[j], out.pairs[i] })
	var reads []time.Duration
	for i := range 200 {
		t0 := time.Now()
		if _, err := srv.Store.Progress(ctx, progs[(i*37)%len(progs)].UserID); err != nil {
			return nil, err
		}
		reads = append(reads, time.Since(t0))
	}
	slices.Sort(reads)
	out.idRead = reads[len(reads)/2]
	t0 := time.Now()
	if _, err := srv.Store.UserDirectory(ctx); err != nil {
		return nil, err
	}
	out.scan = time.Since(t0)
	return out, nil
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how the portal stores a session or token: by its SHA-256.
func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}
