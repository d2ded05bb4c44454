// Package model holds the portal's plain data types, shared by storage and
// the packages above it.
package model

import (
	"strconv"
	"strings"
	"time"
)

// Roles a user may hold; a user may hold several.
const (
	RoleEmployee = "employee"
	RoleManager  = "manager"
	RoleHR       = "hr"
	RoleAdmin    = "admin"
)

// AllRoles lists the valid roles in display order.
var AllRoles = []string{RoleEmployee, RoleManager, RoleHR, RoleAdmin}

// Languages the portal ships in; the first is the content's source language.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// Languages lists the supported languages, source language first.
var Languages = []string{LangZH, LangEN}

// User is a person who can log in.
type User struct {
	ID    string `bson:"_id"`
	Login string `bson:"login"`
	// FormerLogins are logins the person had before a sign-on provider
	// renamed them; receipts signed under one still name it.
	FormerLogins []string `bson:"former_logins,omitempty"`
	Name         string   `bson:"name"`
	Roles        []string `bson:"roles"`
	Department   string   `bson:"department,omitempty"`
	Manager      string   `bson:"manager,omitempty"` // the manager's login
	// Manages names the department a manager is responsible for as a whole:
	// they see its people besides their direct reports. Empty for most.
	Manages string `bson:"manages,omitempty"`
	Email   string `bson:"email,omitempty"`
	// Mobile, WeComID and DingTalkID let group-robot messages mention the
	// person: DingTalk by mobile number or user id, WeCom by user id.
	Mobile     string `bson:"mobile,omitempty"`
	WeComID    string `bson:"wecom_id,omitempty"`
	DingTalkID string `bson:"dingtalk_id,omitempty"`
	// Unread counts the user's unread notifications, for the bell in the
	// header: kept on the user, which every request loads anyway.
	Unread             int       `bson:"unread,omitempty"`
	Lang               string    `bson:"lang,omitempty"`
	Hired              time.Time `bson:"hired"`
	PasswordHash       string    `bson:"password_hash"`
	MustChangePassword bool      `bson:"must_change_password"`
	Active             bool      `bson:"active"`
	Created            time.Time `bson:"created"`
	MFA                MFA       `bson:"mfa"`
	// Exceptions are HR's per-lesson decisions for this person, by slug.
	Exceptions map[string]Exception `bson:"exceptions,omitempty"`
	// Invitation is the _id of the person's open invitation, so HR can
	// revoke it by _id; empty when none is open.
	Invitation string `bson:"invitation,omitempty"`
	// ExternalID is the identity provider's id of the person (SCIM).
	ExternalID string `bson:"external_id,omitempty"`
}

// Exception frees one person from a lesson (Exempt), gives them until a
// later date (Until), or assigns them a lesson outside its audience
// (Assigned), for a recorded reason.
type Exception struct {
	Exempt   bool      `bson:"exempt,omitempty"`
	Until    time.Time `bson:"until,omitempty"`
	Assigned bool      `bson:"assigned,omitempty"`
	Reason   string    `bson:"reason"`
	By       string    `bson:"by"`
	At       time.Time `bson:"at"`
}

// MFA is a user's second factor: a TOTP secret (RFC 6238) and one-time
// recovery codes, stored as SHA-256 hashes.
type MFA struct {
	Enabled  bool      `bson:"enabled"`
	Secret   string    `bson:"secret,omitempty"`
	Pending  string    `bson:"pending,omitempty"`   // secret shown for enrolment, not yet confirmed
	LastStep int64     `bson:"last_step,omitempty"` // the last time step used: a code works once
	Recovery []string  `bson:"recovery,omitempty"`
	Since    time.Time `bson:"since,omitempty"`
}

// HasRole reports whether u holds role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Session is a logged-in browser. Its _id is the SHA-256 of the cookie value,
// so a copy of the database does not hand out live sessions.
type Session struct {
	ID       string    `bson:"_id"`
	UserID   string    `bson:"user_id"`
	CSRF     string    `bson:"csrf"`
	Created  time.Time `bson:"created"`
	LastSeen time.Time `bson:"last_seen"`
	Expires  time.Time `bson:"expires"`
	Client   string    `bson:"client,omitempty"`
	// Pending: the password was right but the second factor is still due.
	// Such a session opens nothing but the second-factor page.
	Pending bool `bson:"pending,omitempty"`
}

// Invitation lets a person without a password choose one, once. Its _id
// is the SHA-256 of the link's 256-bit token; the token is never stored.
type Invitation struct {
	ID      string    `bson:"_id"`
	UserID  string    `bson:"user_id"`
	Login   string    `bson:"login"`
	By      string    `bson:"by"` // the login that caused it, or "scim", "sync"
	Created time.Time `bson:"created"`
	Expires time.Time `bson:"expires"`
}

// APIToken lets a script act as a user. Its _id is the SHA-256 of the token.
type APIToken struct {
	ID       string    `bson:"_id"`
	UserID   string    `bson:"user_id"`
	Name     string    `bson:"name"`
	Created  time.Time `bson:"created"`
	LastUsed time.Time `bson:"last_used,omitempty"`
	Expires  time.Time `bson:"expires,omitempty"`
	Revoked  bool      `bson:"revoked"`
	// Scopes limit what the token may do, within its user's roles. Nil
	// (tokens made before scopes existed): everything the roles allow.
	Scopes []string `bson:"scopes,omitempty"`
	// CreatedBy is the login that made it: an admin for an integration
	// token, the user themselves for a personal one, "cli" from the console.
	CreatedBy string    `bson:"created_by,omitempty"`
	RevokedAt time.Time `bson:"revoked_at,omitempty"`
}

// Ref is the token's public name: a prefix of its hash, enough to tell
// tokens apart in lists and to revoke one, useless for authenticating.
func (t *APIToken) Ref() string {
	if len(t.ID) < 12 {
		return t.ID
	}
	return t.ID[:12]
}

// Change kinds of a published version.
const (
	ChangeInitial = "initial" // version 1
	ChangeMinor   = "minor"   // nobody signs again
	ChangeReack   = "reack"   // everyone acknowledges again
	ChangeRequiz  = "requiz"  // acknowledge again and retake the changed clauses' questions
)

// Lesson is the stable identity of a lesson; its text lives in versions.
type Lesson struct {
	Slug       string            `bson:"_id"`
	Order      int               `bson:"order"`
	Audience   string            `bson:"audience"`
	DueDays    int               `bson:"due_days"`
	Titles     map[string]string `bson:"titles"`
	Current    int               `bson:"current"`     // latest published version
	Required   int               `bson:"required"`    // latest version that asks for acknowledgement
	QuizFrom   int               `bson:"quiz_from"`   // latest version that asks for the quiz
	GraceDays  int               `bson:"grace_days"`  // for re-acknowledgement of Required
	RequiredAt time.Time         `bson:"required_at"` // when Required was published
	// ValidMonths, when set, is how long a signature counts: after it the
	// lesson is due again ("renewal"), GraceDays after the expiry.
	ValidMonths int `bson:"valid_months,omitempty"`
	// Since is when version 1 was published: nobody is due before a lesson
	// existed plus its due days.
	Since   time.Time `bson:"since,omitempty"`
	Updated time.Time `bson:"updated"`
}

// Title returns the title in lang, falling back to the source language.
func (l *Lesson) Title(lang string) string {
	if t := l.Titles[lang]; t != "" {
		return t
	}
	return l.Titles[LangZH]
}

// Clause is a heading-anchored section of a lesson.
type Clause struct {
	ID    string `bson:"id" json:"id"`
	Title string `bson:"title" json:"title"`
	Hash  string `bson:"hash" json:"-"` // SHA-256 of the clause's source, to see what changed
}

// LessonText is one language of a lesson version.
type LessonText struct {
	Title    string   `bson:"title"`
	Summary  string   `bson:"summary"`
	Markdown string   `bson:"markdown"` // the body, exactly as imported or edited
	HTML     string   `bson:"html"`     // rendered and sanitized
	Hash     string   `bson:"hash"`     // SHA-256 of Markdown, hex
	Clauses  []Clause `bson:"clauses"`
	// Editorial notes the repairs this text makes to its source handbook
	// (front matter "editorial"); not part of Hash, so notes alone ask
	// nobody to sign again.
	Editorial []string `bson:"editorial,omitempty"`
}

// LessonVersion is an immutable published text of a lesson. _id is slug@N.
type LessonVersion struct {
	ID         string                `bson:"_id"`
	Slug       string                `bson:"slug"`
	Version    int                   `bson:"version"`
	Kind       string                `bson:"kind"`
	Note       string                `bson:"note,omitempty"`
	Texts      map[string]LessonText `bson:"texts"`
	Published  time.Time             `bson:"published"`
	Author     string                `bson:"author"`
	Changed    []string              `bson:"changed,omitempty"` // clause ids changed since the previous version
	QuizSource string                `bson:"quiz_source"`       // the quiz YAML of this version
	// Outdated lists the languages whose text lags the source language:
	// the source changed in this version or an earlier one, and they did
	// not change since.
	Outdated []string `bson:"outdated,omitempty"`
}

// Draft is HR's unpublished next text of a lesson: the whole lesson file
// (front matter and Markdown) per language, and the quiz YAML. One per
// lesson, _id is the slug; publishing it removes it. Readers never see it.
type Draft struct {
	Slug    string            `bson:"_id"`
	Files   map[string]string `bson:"files"`
	Quiz    string            `bson:"quiz"`
	Base    int               `bson:"base"` // the published version it was started from
	Author  string            `bson:"author"`
	Updated time.Time         `bson:"updated"`
}

// Text returns the text in lang, falling back to the source language.
func (v *LessonVersion) Text(lang string) (LessonText, string) {
	if t, ok := v.Texts[lang]; ok {
		return t, lang
	}
	return v.Texts[LangZH], LangZH
}

// VersionID is the _id of a lesson version.
func VersionID(slug string, version int) string {
	return slug + "@" + strconv.Itoa(version)
}

// AttemptQuestion is a question as drawn for one attempt, options in the
// order shown.
type AttemptQuestion struct {
	ID      string   `bson:"id"`
	Options []string `bson:"options"`
}

// AttemptAnswer is the graded answer to one question.
type AttemptAnswer struct {
	ID      string   `bson:"id"`
	Chosen  []string `bson:"chosen"`
	Correct bool     `bson:"correct"`
}

// Attempt is one try at a lesson's quiz. It is append-only: stored when
// drawn; its graded result is stored once, apart, under the same id.
type Attempt struct {
	ID        string            `bson:"_id"`
	UserID    string            `bson:"user_id"`
	Lesson    string            `bson:"lesson"`
	Version   int               `bson:"version"`
	Lang      string            `bson:"lang"`
	Questions []AttemptQuestion `bson:"questions"`
	Started   time.Time         `bson:"started"`
	PassMark  int               `bson:"pass_mark"`
	// The result, filled from attempt_results once graded.
	Submitted bool            `bson:"-"`
	At        time.Time       `bson:"-"`
	Answers   []AttemptAnswer `bson:"-"`
	Score     int             `bson:"-"` // percent
	Passed    bool            `bson:"-"`
}

// Right is how many of a graded attempt's answers were correct.
func (a *Attempt) Right() int {
	n := 0
	for _, ans := range a.Answers {
		if ans.Correct {
			n++
		}
	}
	return n
}

// ItemTally is one graded answer as item statistics count it. Rest is the
// share right of the attempt's other questions (0 to 1), the score the
// discrimination index correlates with; -1 when the attempt had no other.
type ItemTally struct {
	Key    string
	Right  bool
	Rest   float64
	Chosen []string
}

// ItemStat holds the running sums of one question's answers: a projection
// of the graded attempts, updated at each submit; _id is quiz.ItemKey.
// The sums give the facility and the point-biserial discrimination
// without reading any attempt.
type ItemStat struct {
	ID     string         `bson:"_id"`
	Lesson string         `bson:"lesson"`
	N      int            `bson:"n"`                // answers
	Right  int            `bson:"right"`            // right answers
	ND     int            `bson:"nd"`               // answers in attempts with other questions
	RD     int            `bson:"rd"`               // of those, right
	SY     float64        `bson:"sy"`               // sum of rest scores (of the ND)
	SYY    float64        `bson:"syy"`              // sum of squared rest scores
	SXY    float64        `bson:"sxy"`              // sum of rest scores of the right answers
	Chosen map[string]int `bson:"chosen,omitempty"` // option id -> times chosen (omitted when none: a null refuses $inc of chosen.<id>)
	Blank  int            `bson:"blank"`            // answers with no option chosen
}

// Add counts one answer into the sums.
func (st *ItemStat) Add(t ItemTally) {
	st.N++
	if t.Right {
		st.Right++
	}
	if t.Rest >= 0 {
		st.ND++
		st.SY += t.Rest
		st.SYY += t.Rest * t.Rest
		if t.Right {
			st.RD++
			st.SXY += t.Rest
		}
	}
	if len(t.Chosen) == 0 {
		st.Blank++
	}
	for _, c := range t.Chosen {
		if st.Chosen == nil {
			st.Chosen = map[string]int{}
		}
		st.Chosen[c]++
	}
}

// LessonTally counts a lesson's graded attempts; _id is the slug, in the
// item statistics' collection.
type LessonTally struct {
	Slug     string `bson:"_id"`
	Attempts int    `bson:"attempts"`
	Passed   int    `bson:"passed"`
}

// Receipt is a signed acknowledgement of one lesson version. Receipts of a
// user form a hash chain: each stores the hash of the one before.
type Receipt struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	Login     string    `bson:"login"`
	Lesson    string    `bson:"lesson"`
	Version   int       `bson:"version"`
	Lang      string    `bson:"lang"`
	TextHash  string    `bson:"text_hash"`
	Signature string    `bson:"signature"`
	At        time.Time `bson:"at"`
	Client    string    `bson:"client"`
	Agent     string    `bson:"agent"`
	Seq       int       `bson:"seq"`
	Cycle     int       `bson:"cycle"` // 0 first signature of this version, then one per renewal
	PrevHash  string    `bson:"prev_hash"`
	Hash      string    `bson:"hash"`
}

// LessonProgress is one user's standing in one lesson.
type LessonProgress struct {
	ReadVersion  int       `bson:"read_version"`
	PassVersion  int       `bson:"pass_version"` // latest version whose quiz was passed
	AckVersion   int       `bson:"ack_version"`  // latest version acknowledged
	Attempts     int       `bson:"attempts"`
	LastAttempt  time.Time `bson:"last_attempt,omitempty"`
	Acknowledged time.Time `bson:"acknowledged,omitempty"`
	// Fails counts failed attempts per version ("v3": 2), for the quiz's
	// cool-down; LastFailed is when the latest failed attempt was graded.
	Fails      map[string]int `bson:"fails,omitempty"`
	LastFailed time.Time      `bson:"last_failed,omitempty"`
	// Receipt is the id of the receipt behind AckVersion: a hint that
	// finds it by _id (FerretDB scans for any other read); checked on use.
	Receipt string `bson:"receipt,omitempty"`
}

// FailKey is the key of a version in LessonProgress.Fails.
func FailKey(version int) string { return "v" + strconv.Itoa(version) }

// FailRun is how many attempts failed since the latest pass: those at
// versions after PassVersion (a passed version is not asked again).
func (p LessonProgress) FailRun() int {
	n := 0
	for k, c := range p.Fails {
		if v, err := strconv.Atoi(strings.TrimPrefix(k, "v")); err == nil && v > p.PassVersion {
			n += c
		}
	}
	return n
}

// Progress is the projection of a user's events; _id is the user id. It can
// always be rebuilt from attempts and receipts.
type Progress struct {
	UserID  string                    `bson:"_id"`
	Lessons map[string]LessonProgress `bson:"lessons"`
	Updated time.Time                 `bson:"updated"`
	// Head is the id of the user's latest receipt, the head of the chain:
	// a hint, like LessonProgress.Receipt; a stale one costs a retry.
	Head string `bson:"head,omitempty"`
}

// BulkAction is one of HR's actions on a group for a lesson (assign,
// exempt, extend), with each person's exception before and after, so it
// can be undone exactly. Undone marks it undone; the undo itself is made
// exactly-once by a unique insert (storage.ClaimBulkUndo).
type BulkAction struct {
	ID         string       `bson:"_id"`
	At         time.Time    `bson:"at"`
	Actor      string       `bson:"actor"`
	Lesson     string       `bson:"lesson"`
	Kind       string       `bson:"kind"` // assign, exempt, extend; "undo" for a marker
	Department string       `bson:"department,omitempty"`
	Days       int          `bson:"days,omitempty"`
	Until      time.Time    `bson:"until,omitempty"`
	Reason     string       `bson:"reason,omitempty"`
	Count      int          `bson:"count"`
	Changes    []BulkChange `bson:"changes,omitempty"`
	Undone     time.Time    `bson:"undone,omitempty"`
	UndoneBy   string       `bson:"undone_by,omitempty"`
}

// BulkChange is one person's exception for the lesson before and after a
// bulk action; nil is none.
type BulkChange struct {
	UserID string     `bson:"user_id"`
	Login  string     `bson:"login"`
	Before *Exception `bson:"before,omitempty"`
	After  *Exception `bson:"after,omitempty"`
}

// Actor is who makes a change and from where: what a service that audits
// its own changes needs to write the entry.
type Actor struct {
	Login  string // or "system"
	Client string // the client's address, "" when none
	Via    Via    // the channel the change came by; "" is the web pages
}

// Via is the channel a change came by, recorded with its audit entry
// (and said in its detail) instead of being spelled into the detail text.
type Via string

// The channels a change comes by.
const (
	ViaWeb    Via = ""       // a form on the portal's pages
	ViaAPI    Via = "api"    // the JSON API
	ViaImport Via = "import" // HR's CSV import
	ViaSSO    Via = "sso"    // single sign-on
	ViaSync   Via = "sync"   // the API's directory sync
	ViaInvite Via = "invite" // an invitation link
	ViaSCIM   Via = "scim"   // a SCIM provisioning client
)

// Origin is where a change made by a known user comes from: the client's
// address and the channel. With the user's login it is the Actor.
type Origin struct {
	Client string
	Via    Via
}

// As is o acting as login.
func (o Origin) As(login string) Actor { return Actor{Login: login, Client: o.Client, Via: o.Via} }

// AuditEntry records an action worth remembering.
type AuditEntry struct {
	ID     string    `bson:"_id"`
	At     time.Time `bson:"at"`
	Actor  string    `bson:"actor"` // login, or "system"
	Action string    `bson:"action"`
	Target string    `bson:"target,omitempty"`
	// Detail is the detail in English plain text: for the CSV export, the
	// API, and entries written before details were data.
	Detail string `bson:"detail,omitempty"`
	// DetailKey and DetailArgs are the detail as data, said in the
	// reader's language on the log's page: a catalog key (audit.detail.*)
	// and its arguments (see locale.AuditDetail). Empty on older entries.
	DetailKey  string   `bson:"detail_key,omitempty"`
	DetailArgs []string `bson:"detail_args,omitempty"`
	Via        Via      `bson:"via,omitempty"`
	Client     string   `bson:"client,omitempty"`
	// Count is how many tries a row of refused sign-ins stands for (one
	// row per key and window); 0 for every other entry.
	Count int `bson:"count,omitempty"`
}

// CertificateLesson is one lesson a certificate vouches for.
type CertificateLesson struct {
	Slug    string            `bson:"slug"`
	Titles  map[string]string `bson:"titles"`
	Version int               `bson:"version"`
}

// Certificate says a person completed every assigned lesson. _id is the
// public verification code; Fingerprint (user and lesson versions) is
// unique, so completing the same set twice yields the same certificate.
type Certificate struct {
	Code        string              `bson:"_id"`
	UserID      string              `bson:"user_id"`
	Name        string              `bson:"name"`
	Lessons     []CertificateLesson `bson:"lessons"`
	Issued      time.Time           `bson:"issued"`
	Expires     time.Time           `bson:"expires,omitempty"` // the first lesson signature to age out
	Fingerprint string              `bson:"fingerprint"`
}

// ThrottleSlot is one claimed attempt: _id is key|window|n, n from 1 to
// the key's limit, so a key has at most limit tries per window.
type ThrottleSlot struct {
	ID      string    `bson:"_id"`
	Expires time.Time `bson:"expires"` // the sweep removes it after this
}

// Notification kinds.
const (
	NotifyReminder   = "reminder"   // a manager or HR reminded the person
	NotifyDueSoon    = "due_soon"   // the daily job: due in a few days
	NotifyEscalation = "escalation" // the daily job: to the manager, the person is overdue
	NotifyResign     = "resign"     // a publish asks the person to sign a new version
)

// Notification is a message in a user's inbox, maybe also sent by email.
// Its _id is kind/about/day, the unique key that makes each kind of message
// about one person go out at most once a day, however many portal
// instances try at once. The lessons it names are those sharing that day
// (the job's milestones: due date less N days, or plus M days), so each
// person and lesson gets at most one message of a kind a day.
type Notification struct {
	ID         string    `bson:"_id"`
	Kind       string    `bson:"kind"`
	UserID     string    `bson:"user_id"` // the recipient
	About      string    `bson:"about"`   // the user id of the person concerned
	AboutName  string    `bson:"about_name"`
	AboutLogin string    `bson:"about_login"`
	Lessons    []string  `bson:"lessons"`
	Due        time.Time `bson:"due,omitempty"`
	Day        string    `bson:"day"`                 // YYYY-MM-DD
	From       string    `bson:"from"`                // the sender's login, or "system"
	FromName   string    `bson:"from_name,omitempty"` // the sender's display name
	Version    int       `bson:"version,omitempty"`   // resign: the version to sign
	Created    time.Time `bson:"created"`
	Read       bool      `bson:"read"`
	Emailed    time.Time `bson:"emailed,omitempty"`
	EmailError string    `bson:"email_error,omitempty"`
}

// Identity is who a single sign-on provider says someone is, mapped to the
// portal's fields. SyncRoles says whether Roles come from the provider
// (then they replace the account's) or are the portal's to set.
type Identity struct {
	// Issuer and Subject are the provider's name for the person, which
	// (unlike the login claim) the provider never reassigns.
	Issuer, Subject                string
	Login, Name, Email, Department string
	Roles                          []string
	SyncRoles                      bool
}

// Channel is a place HR sends a department's notices besides the inbox: a
// WeCom or DingTalk group robot, or an email address. Webhook, Secret and
// SMTPURL hold secrets and are stored sealed (AES-256-GCM), never in clear.
type Channel struct {
	ID         string `bson:"_id"`
	Name       string `bson:"name"`
	Kind       string `bson:"kind"`       // email, wecom, dingtalk
	Department string `bson:"department"` // "" for every department
	Lang       string `bson:"lang"`       // the language its messages are written in
	Enabled    bool   `bson:"enabled"`
	Webhook    string `bson:"webhook,omitempty"`  // sealed: the robot's URL holds its key
	Secret     string `bson:"secret,omitempty"`   // sealed: DingTalk signing secret
	To         string `bson:"to,omitempty"`       // email: addresses, comma separated
	SMTPURL    string `bson:"smtp_url,omitempty"` // sealed: email through another server
	// WebhookHost shows which robot it is without the key.
	WebhookHost string    `bson:"webhook_host,omitempty"`
	Created     time.Time `bson:"created"`
	Updated     time.Time `bson:"updated"`
	By          string    `bson:"by"`
}

// Delivery kinds beyond the notification kinds.
const (
	DeliveryAnnouncement = "announcement" // a new version to acknowledge
	DeliveryTest         = "test"         // HR's "send test message"
)

// Delivery states.
const (
	DeliveryPending  = "pending"  // not yet tried, or retrying at Next
	DeliverySent     = "sent"     // the receiver accepted it
	DeliveryFailed   = "failed"   // gave up after the last attempt
	DeliveryCanceled = "canceled" // the channel was deleted or disabled
)

// Delivery is one message to one channel. Its _id is message|channel, the
// unique key that queues it once however many instances try; each attempt
// is claimed by inserting delivery_attempts/<_id>#<n>, so only one
// instance makes attempt n.
type Delivery struct {
	ID          string    `bson:"_id"`
	Message     string    `bson:"message"` // the notification id, announcement/slug@N, test/...
	ChannelID   string    `bson:"channel_id"`
	ChannelName string    `bson:"channel_name"`
	ChannelKind string    `bson:"channel_kind"`
	Kind        string    `bson:"kind"`             // reminder, due_soon, escalation, announcement, test
	Person      string    `bson:"person,omitempty"` // the login concerned
	Lessons     []string  `bson:"lessons,omitempty"`
	Title       string    `bson:"title"`
	Text        string    `bson:"text"`
	Link        string    `bson:"link,omitempty"`
	LinkText    string    `bson:"link_text,omitempty"`
	Mobiles     []string  `bson:"mobiles,omitempty"`
	UserIDs     []string  `bson:"user_ids,omitempty"`
	Status      string    `bson:"status"`
	Attempts    int       `bson:"attempts"`
	Next        time.Time `bson:"next"`
	ErrCode     int       `bson:"err_code,omitempty"`
	Error       string    `bson:"error,omitempty"`
	Created     time.Time `bson:"created"`
	Sent        time.Time `bson:"sent,omitempty"`
	Updated     time.Time `bson:"updated"`
}

// DeliveryAttempt is the claim of one attempt at a delivery.
type DeliveryAttempt struct {
	ID       string    `bson:"_id"` // delivery id#n
	Delivery string    `bson:"delivery"`
	At       time.Time `bson:"at"`
}

// DirectoryChoices are the values the account form offers: the
// departments in use and the managers, each once, sorted.
type DirectoryChoices struct {
	Departments []string
	Managers    []PersonChoice
}

// PersonChoice is a person offered by login, with their name.
type PersonChoice struct{ Login, Name string }
