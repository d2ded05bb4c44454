// Package backup writes the whole database to one portable file and reads
// it back into an empty database.
//
// The file is gzip-compressed JSON lines: a header, then one line per
// document, {"c": collection, "d": document}, the document in MongoDB's
// canonical extended JSON (so dates and number types come back exactly,
// and mongoimport-style tools can read it), then a trailer with the count
// of each collection. A file without its trailer was cut short and is
// refused.
package backup

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"conductportal/server/storage"
)

// Format names the file format in its header.
const Format = "conduct-portal-backup"

// FormatVersion is the version of the format this package writes.
const FormatVersion = 1

// schemaCollection records the schema step reached; restore applies the
// steps itself instead of copying it.
const schemaCollection = "schema"

type header struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Schema  int       `json:"schema"`
	// SecretKey (hex) seals the channel secrets in the documents: without
	// it a restored portal could not open them. Absent in backups made
	// before it was carried, and when the portal had no key.
	SecretKey string `json:"secret_key,omitempty"`
	// SigningKey (base64 seed) signs the receipt checkpoints; carried only
	// when the operator asks (backup --with-signing-key).
	SigningKey string `json:"signing_key,omitempty"`
}

type line struct {
	Collection string          `json:"c,omitempty"`
	Doc        json.RawMessage `json:"d,omitempty"`
	End        bool            `json:"end,omitempty"`
	Counts     map[string]int  `json:"counts,omitempty"`
}

// Summary says what a backup or restore carried.
type Summary struct {
	Schema    int            // schema step of the database backed up
	Counts    map[string]int // documents per collection
	SecretKey []byte         // the key of the channel secrets; nil: none carried
	// SigningKey is the Ed25519 seed of the checkpoints; nil: none carried.
	SigningKey []byte
}

// Keys are the keys a backup carries beside the documents; nil: not carried.
type Keys struct {
	Secret  []byte // seals the channel secrets
	Signing []byte // the Ed25519 seed that signs the checkpoints
}

// Total is the number of documents.
func (s *Summary) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// Write writes every collection of store to w. schema is the schema step
// the database has reached; keys.Secret, when not nil, is the key that
// seals the channel secrets, carried so that a restore elsewhere opens them
// (the file is then as secret as the key); keys.Signing likewise the seed
// of the checkpoints' signing key.
func Write(ctx context.Context, store *storage.Storage, w io.Writer, schema int, keys Keys) (*Summary, error) {
	secretKey := keys.Secret
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(zw, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	sum := &Summary{Schema: schema, Counts: map[string]int{}, SecretKey: secretKey}
	h := header{Format: Format, Version: FormatVersion, Created: time.Now().UTC(), Schema: schema}
	if secretKey != nil {
		h.SecretKey = hex.EncodeToString(secretKey)
	}
	if keys.Signing != nil {
		sum.SigningKey = keys.Signing
		h.SigningKey = base64.StdEncoding.EncodeToString(keys.Signing)
	}
	if err := enc.Encode(h); err != nil {
		return nil, fmt.Errorf("backup: write: %w", err)
	}
	names, err := store.CollectionNames(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		sum.Counts[name] = 0
		err := store.ExportCollection(ctx, name, func(doc []byte) error {
			sum.Counts[name]++
			return enc.Encode(line{Collection: name, Doc: doc})
		})
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
	}
	if err := enc.Encode(line{End: true, Counts: sum.Counts}); err != nil {
		return nil, fmt.Errorf("backup: write: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("backup: write: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("backup: write: %w", err)
	}
	return sum, nil
}

// ErrNotEmpty is returned by Restore into a database that holds data.
var ErrNotEmpty = errors.New("backup: restore needs an empty database")

// Empty reports whether the database holds no documents (the schema
// record aside), and names a collection that does.
func Empty(ctx context.Context, store *storage.Storage) (bool, string, error) {
	names, err := store.CollectionNames(ctx)
	if err != nil {
		return false, "", err
	}
	for _, name := range names {
		if name == schemaCollection {
			continue
		}
		n, err := store.DocumentCount(ctx, name)
		if err != nil {
			return false, "", err
		}
		if n > 0 {
			return false, name, nil
		}
	}
	return true, "", nil
}

// Check reads a whole backup without storing anything: the file is
// complete, well formed and readable by this portal.
func Check(r io.Reader, maxSchema int) (*Summary, error) {
	return read(r, maxSchema, func(string, []byte) error { return nil })
}

// Restore reads a backup from r into store, which must be empty. It does
// not create indexes or record the schema step: the caller applies the
// schema steps afterwards. maxSchema is the newest schema this build knows;
// a backup of a newer portal is refused. Check the file first: a file that
// turns out damaged half way leaves half a database.
func Restore(ctx context.Context, store *storage.Storage, r io.Reader, maxSchema int) (*Summary, error) {
	empty, full, err := Empty(ctx, store)
	if err != nil {
		return nil, err
	}
	if !empty {
		return nil, fmt.Errorf("%w: collection %s has documents", ErrNotEmpty, full)
	}
	pending := map[string][][]byte{}
	flush := func(name string) error {
		if err := store.ImportDocuments(ctx, name, pending[name]); err != nil {
			return fmt.Errorf("backup: restore: %w", err)
		}
		pending[name] = pending[name][:0]
		return nil
	}
	sum, err := read(r, maxSchema, func(name string, doc []byte) error {
		if name == schemaCollection {
			return nil
		}
		pending[name] = append(pending[name], doc)
		if len(pending[name]) >= 500 {
			return flush(name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name := range pending {
		if err := flush(name); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// read parses a backup and hands every document to fn; it fails on a
// file that is not complete.
func read(r io.Reader, maxSchema int, fn func(collection string, doc []byte) error) (*Summary, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("backup: not a backup file (gzip): %w", err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("backup: empty file: %w", scanErr(sc))
	}
	var h header
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != Format {
		return nil, fmt.Errorf("backup: not a Conduct Portal backup")
	}
	if h.Version != FormatVersion {
		return nil, fmt.Errorf("backup: file format version %d; this portal reads version %d", h.Version, FormatVersion)
	}
	if h.Schema > maxSchema {
		return nil, fmt.Errorf("backup: made by a newer portal (schema step %d, this one knows %d): restore it with that version or newer", h.Schema, maxSchema)
	}
	sum := &Summary{Schema: h.Schema, Counts: map[string]int{}}
	if h.SecretKey != "" {
		if sum.SecretKey, err = hex.DecodeString(h.SecretKey); err != nil || len(sum.SecretKey) != 32 {
			return nil, fmt.Errorf("backup: the secret key in the header is damaged")
		}
	}
	if h.SigningKey != "" {
		if sum.SigningKey, err = base64.StdEncoding.DecodeString(h.SigningKey); err != nil || len(sum.SigningKey) != 32 {
			return nil, fmt.Errorf("backup: the signing key in the header is damaged")
		}
	}
	n := 1
	var trailer *line
	for sc.Scan() {
		n++
		if trailer != nil {
			return nil, fmt.Errorf("backup: line %d: data after the end", n)
		}
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("backup: line %d: %w", n, err)
		}
		if l.End {
			trailer = &l
			continue
		}
		if l.Collection == "" || len(l.Doc) == 0 {
			return nil, fmt.Errorf("backup: line %d: no collection or document", n)
		}
		sum.Counts[l.Collection]++
		if err := fn(l.Collection, []byte(l.Doc)); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("backup: read line %d: %w", n+1, err)
	}
	if trailer == nil {
		return nil, fmt.Errorf("backup: the file is cut short (no end record after line %d)", n)
	}
	for name, want := range trailer.Counts {
		if sum.Counts[name] != want {
			return nil, fmt.Errorf("backup: collection %s: %d documents read, the file says %d", name, sum.Counts[name], want)
		}
	}
	return sum, nil
}

func scanErr(sc *bufio.Scanner) error {
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
