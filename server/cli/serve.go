package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	portal "conductportal"
	"conductportal/server/audit"
	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/channel"
	"conductportal/server/checkpoint"
	"conductportal/server/config"
	"conductportal/server/database"
	"conductportal/server/lesson"
	"conductportal/server/logging"
	"conductportal/server/metrics"
	"conductportal/server/model"
	"conductportal/server/notify"
	"conductportal/server/report"
	"conductportal/server/scim"
	"conductportal/server/secret"
	"conductportal/server/sso"
	"conductportal/server/storage"
	"conductportal/server/training"
	"conductportal/server/web"

	"github.com/gofiber/fiber/v2"
)

// Server is a running portal: database, services and the HTTP app.
type Server struct {
	Config   *config.Config
	DB       *database.DB
	Store    *storage.Storage
	Auth     *auth.Service
	Training *training.Service
	Reports  *report.Service
	// Audit is the audit log, read and written by what no service owns.
	Audit  *audit.Log
	Notify *notify.Service
	// Authoring is HR's drafts, publishing and history.
	Authoring *authoring.Service
	App       *fiber.App
	Log       *slog.Logger
	// Metrics are served on /metrics.
	Metrics *metrics.Metrics
	// SSO is the OpenID Connect sign-on, nil when not configured.
	SSO *sso.Client

	// Channels are the departments' WeCom, DingTalk and email channels.
	Channels *channel.Service
	// SigningKey signs the receipt checkpoints; it is never stored in the
	// database (PORTAL_SIGNING_KEY or <data>/signing.key).
	SigningKey ed25519.PrivateKey

	started chan struct{} // closed when the start-up jobs are done (see StartupDone)
}

// StartupDone is closed once the start-up jobs (loads and the progress
// check, run beside serving) are done or stopped: a test that changes the
// database behind the portal's back waits for it, or the check may repair
// the change.
func (s *Server) StartupDone() <-chan struct{} { return s.started }

// Start opens the database, applies the schema, imports the content into an
// empty database, creates the first admin, and builds the app. It does not
// listen; see Serve. The admin's one-time password goes to console only.
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger, console io.Writer) (*Server, error) {
	started := time.Now()
	log.Info("starting", cfg.Redacted()...)
	// Content is checked before the database is touched: bad content stops
	// the start and nothing is half imported.
	bundle, err := loadBundle(contentFS(cfg), contentName(cfg), console)
	if err != nil {
		return nil, err
	}
	signingKey, created, err := checkpoint.Key(cfg.SigningKey, cfg.DataDir, true)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("PORTAL_SIGNING_KEY unset: a key that signs the receipt checkpoints was created; keep a copy and its public key away from this machine",
			"file", filepath.Join(cfg.DataDir, checkpoint.KeyFile), "public_key", checkpoint.PublicKey(signingKey))
	}
	m := metrics.New()
	db, store, err := openStoreMetrics(ctx, cfg, log, m)
	if err != nil {
		return nil, err
	}
	s := &Server{started: make(chan struct{}), Config: cfg, DB: db, Store: store, Auth: newAuth(store), Training: newTraining(store, log), Log: log, Metrics: m,
		SigningKey: signingKey}
	s.Training.SetMetrics(m)
	s.Audit = audit.NewLog(store, s.Training.Now)
	s.Auth.SetCompany(cfg.CompanyName)
	m.WatchSessions(store.SessionCount)
	m.WatchProgressHeld(store.ProgressHeld)
	s.Reports = report.New(store, log, nil)
	var mailer notify.Mailer
	if cfg.SMTPURL != "" {
		if mailer, err = notify.NewSMTP(cfg.SMTPURL, "Conduct Portal"); err != nil {
			_ = db.Close(context.Background())
			return nil, err
		}
	}
	s.Notify = notify.New(store, s.Reports, mailer,
		notify.Config{RemindDays: cfg.RemindDays, EscalateDays: cfg.EscalateDays, BaseURL: cfg.BaseURL}, log, nil)
	s.Notify.SetMetrics(m)
	s.Training.OnAcknowledged = s.Notify.Resolve
	// People made by sync, import or SCIM get no password: an invitation
	// by email, or nothing where they sign in by SSO.
	s.Auth.SetInvitations(auth.Invitations{BaseURL: cfg.BaseURL, SSO: cfg.OIDC.Enabled(), Send: s.Notify.SendInvitation})
	box := db.Secrets()
	if box == nil {
		log.Warn("PORTAL_SECRET_KEY unset: channel webhooks and second factors cannot be saved until it is set")
	}
	s.Auth.SetSecrets(box)
	s.Channels = channel.NewService(store, box, channel.NewSender(mailer), log, nil)
	s.Notify.SetChannels(s.Channels)
	s.Authoring = authoring.New(store, s.Training, lesson.NewRenderer(), log)
	s.Authoring.OnPublish = s.Notify.Announce
	if err := s.firstRun(ctx, bundle, console); err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	if err := s.recoverItemStats(ctx); err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	if err := s.recoverProgress(ctx); err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	if n, err := s.Channels.Seed(ctx, cfg.Channels); err != nil {
		_ = db.Close(context.Background())
		return nil, err
	} else if n > 0 {
		log.Info("channels created from PORTAL_CHANNELS", "count", n)
	}
	// The content import may have made the lesson tables just now; the
	// collections not written yet are made, so they get the index too.
	if _, err := db.IndexIDs(ctx, storage.Collections()...); err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	if cfg.OIDC.Enabled() {
		s.SSO = sso.New(cfg.OIDC, cfg.BaseURL)
		log.Info("single sign-on", "issuer", cfg.OIDC.Issuer, "redirect_url", s.SSO.RedirectURL())
	}
	scimHandler, err := scim.Handler(s.Auth, store, cfg.BaseURL, log)
	if err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	demo, err := store.IsDemo(ctx)
	if err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	if demo {
		log.Info("this database holds the demo company (portal demo): every page says so")
	}
	s.App, err = web.New(web.Deps{SCIM: scimHandler, Config: cfg, Auth: s.Auth, Training: s.Training, Audit: s.Audit, Reports: s.Reports, Notify: s.Notify,
		Authoring: s.Authoring, DB: db, Assets: portal.Assets, Log: log, Metrics: m, SSO: s.SSO,
		Channels: s.Channels, Demo: demo})
	if err != nil {
		_ = db.Close(context.Background())
		return nil, err
	}
	log.Info("ready", "took", time.Since(started).Round(time.Millisecond).String())
	return s, nil
}

// secretBox returns the box that seals stored secrets (channel secrets,
// second factors): the key of PORTAL_SECRET_KEY; unset, with the embedded
// database, <data>/secret.key (made once, mode 0600); unset with
// MONGODB_URI, none: the portal runs, but such secrets cannot be saved
// until the key is set.
func secretBox(cfg *config.Config, log *slog.Logger) (*secret.Box, error) {
	var key []byte
	var err error
	switch {
	case cfg.SecretKey != "":
		if key, err = secret.ParseKey(cfg.SecretKey); err != nil {
			return nil, err
		}
	case cfg.MongoURI == "":
		var created bool
		if key, created, err = secret.LoadOrCreateKey(cfg.DataDir); err != nil {
			return nil, err
		}
		if created {
			log.Info("PORTAL_SECRET_KEY unset: a key for stored secrets was created; back it up with the data", "file", filepath.Join(cfg.DataDir, secret.KeyFile))
		}
	default:
		return nil, nil
	}
	return secret.NewBox(key)
}

// checkProgress compares the progress of a sample of users (those of the
// latest events first: a crash may have stopped a request between storing
// an event and updating progress) with their events, and logs any drift.
// It runs beside serving (it reads every event collection: seconds on a
// large database, which must not delay readiness), so it repairs only by
// moving lagging progress forward, which live updates never undo. Progress
// ahead of its events is logged; "portal rebuild" rewrites it.
func (s *Server) checkProgress(ctx context.Context) {
	started := time.Now()
	rep, err := s.Training.CatchUpProgressSample(ctx, 200, 50)
	took := time.Since(started).Round(time.Millisecond).String()
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("progress drift check failed", "err", err)
		}
		return
	}
	if len(rep.Drift) == 0 {
		s.Log.Info("progress matches the events", "users_checked", rep.Users, "took", took)
		return
	}
	for i, d := range rep.Drift {
		if i == 20 {
			s.Log.Warn("progress drift: more not shown", "fields", len(rep.Drift)-i)
			break
		}
		s.Log.Warn("progress drift", "user", d.UserID, "lesson", d.Lesson, "field", d.Field, "stored", d.Stored, "events", d.Expected)
	}
	s.Log.Warn("progress drift found", "users_checked", rep.Users, "fields", len(rep.Drift), "users_repaired", rep.Repaired, "took", took)
}

// loadAudit reads the audit log's keys into memory beside serving (a scan
// of the log: seconds on a large one; see storage.AuditPage).
func (s *Server) loadAudit(ctx context.Context) {
	started := time.Now()
	n, err := s.Store.LoadAudit(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		s.Log.Warn("audit log not loaded; the first audit page loads it", "err", err)
	case err == nil && s.Store.SoleWriter():
		s.Log.Info("audit log loaded", "entries", n, "took", time.Since(started).Round(time.Millisecond).String())
	}
}

func contentName(cfg *config.Config) string {
	if cfg.ContentDir != "" {
		return cfg.ContentDir
	}
	return "embedded content"
}

// firstRun imports the content into an empty database and creates the
// admin account when there is none.
func (s *Server) firstRun(ctx context.Context, b *training.Bundle, console io.Writer) error {
	// Lessons of the content that the database lacks are imported as
	// version 1: a first start, a lesson shipped later, or an import that a
	// crash cut short. Lessons already there are HR's to change.
	missing := &training.Bundle{}
	for _, bl := range b.Lessons {
		switch _, err := s.Store.Lesson(ctx, bl.Slug); {
		case errors.Is(err, model.ErrNotFound):
			missing.Lessons = append(missing.Lessons, bl)
		case err != nil:
			return err
		}
	}
	if len(missing.Lessons) > 0 {
		res, err := s.Training.Import(ctx, missing, model.ChangeReack, "system", 14)
		if err != nil {
			return fmt.Errorf("cli: import content: %w", err)
		}
		s.Log.Info("content imported", "lessons", len(res))
	}
	some, err := s.Store.HasUsers(ctx)
	if err != nil {
		return err
	}
	if some {
		return nil
	}
	pw := auth.RandomPassword()
	_, err = s.Auth.CreateUser(ctx, auth.NewUser{
		Login: "admin", Name: "Administrator", Roles: []string{model.RoleHR, model.RoleAdmin},
		Password: pw, MustChangePassword: true,
	})
	if errors.Is(err, model.ErrDuplicate) {
		return nil // another instance created it first
	}
	if err != nil {
		return err
	}
	// The password goes to a file only its owner reads, never to the log:
	// systemd and Docker keep standard output, so it is printed there only
	// when that is a terminal someone is watching.
	file, err := writeAdminPassword(s.Config.DataDir, pw)
	if err != nil {
		return err
	}
	s.Log.Info("first start: an administrator account was created; its one-time password is in the file (delete it after the first login)",
		"file", file)
	if isTerminal(console) {
		rule := strings.Repeat("=", 64)
		fmt.Fprintf(console, "\n  %s\n  First start: an administrator account was created.\n"+
			"    login:     admin\n    password:  %s   (also in %s)\n"+
			"  Log in and choose a new password.\n  %s\n\n", rule, pw, file, rule)
	}
	return nil
}

// AdminPasswordFile is where the first start leaves the admin's one-time
// password, in the data folder.
const AdminPasswordFile = "admin-password.txt"

// writeAdminPassword writes pw to dir/admin-password.txt, mode 0600.
func writeAdminPassword(dir, pw string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cli: data folder: %w", err)
	}
	path := filepath.Join(dir, AdminPasswordFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // #nosec G304 -- the portal's own data folder
	if err != nil {
		return "", fmt.Errorf("cli: admin password file: %w", err)
	}
	// An old file's mode is kept by O_TRUNC: set it.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("cli: admin password file: %w", err)
	}
	if _, err := fmt.Fprintf(f, "login: admin\npassword: %s\n", pw); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("cli: admin password file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("cli: admin password file: %w", err)
	}
	return path, nil
}

// isTerminal says whether w is a terminal (not a pipe, file or journal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Serve answers on ln until ctx ends, then stops gracefully: requests in
// flight may finish within the grace period.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	sweepCtx, stopSweep := context.WithCancel(ctx)
	var background sync.WaitGroup
	background.Go(func() {
		defer close(s.started)
		s.startupJobs(sweepCtx, func() {
			if s.Config.ReminderJob {
				background.Go(func() { s.Notify.Schedule(sweepCtx, remindEvery) })
			}
		})
	})
	background.Go(func() { s.sweepSessions(sweepCtx) })
	if s.Config.CheckpointJob {
		background.Go(func() { s.checkpoints(sweepCtx) })
	}
	if s.Config.DeliveryWorker {
		background.Go(func() { s.Channels.Run(sweepCtx, deliverEvery) })
	}
	// The jobs end before Serve returns, so Close never pulls the database
	// from under a reminder run.
	defer background.Wait()
	defer stopSweep()
	errc := make(chan error, 1)
	go func() { errc <- s.App.Listener(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("cli: serve: %w", err)
	case <-ctx.Done():
	}
	s.Log.Info("stopping")
	if err := s.App.ShutdownWithTimeout(8 * time.Second); err != nil {
		s.Log.Warn("shutdown", "err", err)
	}
	return nil
}

// loadKept reads every user, session and token, the receipts' index and
// the lessons' current versions into memory beside serving
// (storage.LoadKept), so no one's first page waits for the database.
func (s *Server) loadKept(ctx context.Context) {
	t0 := time.Now()
	k, err := s.Store.LoadKept(ctx)
	if err == nil {
		_, err = s.Training.WarmCurrent(ctx)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("users and sessions not loaded; each is read at its first use", "err", err)
		}
		return
	}
	s.Log.Info("users and sessions loaded", "users", k.Users, "sessions", k.Sessions, "tokens", k.Tokens, "receipts", k.Receipts,
		"took", time.Since(t0).Round(time.Millisecond).String())
}

// deliverEvery is how often the delivery worker looks for due retries and
// for messages other instances queued (retries wait a minute or more);
// messages queued here wake it at once.
const deliverEvery = 30 * time.Second

// remindEvery is how often the reminder job looks for people to remind;
// its keys make running it more than once a day harmless.
const remindEvery = time.Hour

// startupJobs runs the start's loads and checks beside serving, one after
// another, the most useful first: each is a scan of a collection, seconds
// of CPU at 100,000 people, and run at once they took minutes on a loaded
// machine and held their garbage together. First the directory, then the
// reports' progress (the organisation view waits for it, and the learners'
// pages read progress from it), then (reminders, which need it, start) the
// users, sessions, tokens, receipts' index and current lessons, the audit
// log's keys, and the progress check. Each logs how
// long it took; "start-up jobs done" ends them.
func (s *Server) startupJobs(ctx context.Context, warmed func()) {
	t0 := time.Now()
	// The directory (embedded database only; a page that needs it first
	// waits for this load rather than the start for every page).
	if err := s.Store.LoadDirectory(ctx, s.Log); err != nil && ctx.Err() == nil {
		s.Log.Warn("directory not loaded; its first use loads it", "err", err)
	}
	s.warmReports(ctx)
	warmed()
	s.loadKept(ctx)
	s.loadAudit(ctx)
	s.checkProgress(ctx)
	if ctx.Err() == nil {
		s.Log.Info("start-up jobs done", "took", time.Since(t0).Round(time.Millisecond).String())
	}
}

// warmReports loads the reports' caches (every person's progress).
func (s *Server) warmReports(ctx context.Context) {
	t0 := time.Now()
	if err := s.Reports.Warm(ctx); err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("report cache not loaded; the first report loads it", "err", err)
		}
		return
	}
	s.Log.Info("report cache loaded", "took", time.Since(t0).Round(time.Millisecond).String())
}

// checkpointEvery is how often the portal signs the chain heads; a day
// without signatures writes no line.
const checkpointEvery = 24 * time.Hour

// checkpoints signs the chain heads once a checkpointEvery, counted from
// the file's last checkpoint: a restart does not pass over every receipt
// again while the day's checkpoint is signed (none yet: now). With several
// instances on one database each writes its own data folder's file:
// harmless, each file proves the same receipts. The first waits for the
// start-up jobs (StartupDone), so its pass over the receipts does not
// run beside them.
func (s *Server) checkpoints(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-s.started:
	}
	var wait time.Duration
	if last, err := checkpoint.LastSigned(s.Config.DataDir); err != nil {
		s.Log.Warn("checkpoint file not read; signing now", "err", err)
	} else if !last.IsZero() {
		wait = max(0, checkpointEvery-time.Since(last))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.Checkpoint(ctx)
		t.Reset(checkpointEvery)
	}
}

// Checkpoint appends a signed checkpoint when a chain changed, and logs
// chains that changed without growing: receipts edited or deleted in the
// database since the last checkpoint.
func (s *Server) Checkpoint(ctx context.Context) {
	started := time.Now()
	res, err := checkpoint.Write(ctx, s.Store, s.Config.DataDir, s.SigningKey, time.Now())
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("checkpoint not written", "err", err)
		}
		return
	}
	if res.Torn > 0 {
		s.Log.Warn("the checkpoint file ended in a line cut short (a crash while appending); it was removed", "bytes", res.Torn)
	}
	for _, h := range res.Rewritten {
		s.Log.Error("a receipt chain changed without growing since the last checkpoint: receipts were edited or deleted in the database; run portal verify --checkpoints",
			"user", h.User, "login", h.Login, "count", h.Count)
	}
	if c := res.Checkpoint; c != nil {
		s.Log.Info("checkpoint signed", "seq", c.Seq, "chains_changed", len(c.Heads), "digest", c.Digest,
			"took", time.Since(started).Round(time.Millisecond).String())
	}
}

// recoverItemStats rebuilds the item statistics from the graded attempts
// when the last process stopped with sums only in its memory (a crash: see
// storage's item_stats.go), before any quiz is graded.
func (s *Server) recoverItemStats(ctx context.Context) error {
	pending, err := s.Store.ItemStatsPending(ctx)
	if err != nil || !pending {
		return err
	}
	started := time.Now()
	lessons, err := s.Training.Lessons(ctx)
	if err != nil {
		return err
	}
	attempts := 0
	for _, l := range lessons {
		t, err := s.Authoring.RebuildItemStats(ctx, l.Slug)
		if err != nil {
			return err
		}
		attempts += t.Attempts
	}
	if err := s.Store.SettleItemStats(ctx); err != nil {
		return err
	}
	s.Log.Warn("the last run did not stop cleanly: item statistics rebuilt from the graded attempts",
		"lessons", len(lessons), "attempts", attempts, "took", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// recoverProgress moves progress forward from the events when the last
// process stopped with progress changes only in its memory (a crash: see
// storage's progress_behind.go), before any request reads it.
func (s *Server) recoverProgress(ctx context.Context) error {
	started := time.Now()
	rep, err := s.Training.RecoverProgress(ctx)
	if err != nil || rep == nil {
		return err
	}
	s.Log.Warn("the last run did not stop cleanly: progress moved forward from the events",
		"users_checked", rep.Users, "users_repaired", rep.Repaired, "took", time.Since(started).Round(time.Millisecond).String())
	return nil
}

// Close writes what storage holds in memory and releases the database.
func (s *Server) Close() error {
	s.Notify.Wait()
	// Progress held after a burst is one write per person: longer than
	// the rest may take.
	px, cancelP := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelP()
	if err := s.Store.CloseProgress(px); err != nil {
		s.Log.Error("progress not written at the stop; the next start recovers it from the events", "err", err)
	}
	cx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Store.SettleItemStats(cx); err != nil {
		s.Log.Error("item statistics not written at the stop; the next start rebuilds them", "err", err)
	}
	s.Store.StopLater()
	return s.DB.Close(cx)
}

// sweepSessions deletes expired sessions; FerretDB has no TTL indexes.
func (s *Server) sweepSessions(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now().UTC()
			if n, err := s.Store.DeleteExpiredSessions(ctx, now, now.Add(-auth.IdleTimeout)); err != nil {
				s.Log.Warn("session sweep", "err", err)
			} else if n > 0 {
				s.Log.Info("expired sessions removed", "count", n)
			}
			// Throttle slots of ended windows (no TTL index on FerretDB).
			if _, err := s.Auth.SweepThrottles(ctx); err != nil {
				s.Log.Warn("throttle sweep", "err", err)
			}
		}
	}
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	fs := newFlags("serve", "serve [--addr host:port]", stdout, stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (PORTAL_ADDR)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	// The log's lines go to stderr from one goroutine: no request waits
	// on another's write(2) under slog's lock (logging.Writer).
	lw := logging.NewWriter(stderr)
	defer lw.Close()
	log := newLogger(cfg, lw)
	setMemoryLimit(log)
	if err := startProfiler(ctx, log); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cli: listen on %s: %w", cfg.Addr, err)
	}
	if cfg.Served(ln.Addr().String()) {
		log.Warn("links in messages and certificates point at " + cfg.BaseURL + ", which is no address: set PORTAL_BASE_URL to the one people use")
	}
	s, err := Start(ctx, cfg, log, stdout)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "Conduct Portal is serving on http://%s\n", ln.Addr())
	return s.Serve(ctx, ln)
}
