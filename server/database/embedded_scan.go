package database

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// ScanEmbedded calls fn with every document of an embedded collection, read
// straight from FerretDB's SQLite file and converted from its sjson to BSON
// here, for the start's bulk loads. FerretDB v1 decodes each document's
// sjson value by value (a json.Decoder for every field), builds its own
// document, encodes it to BSON and sends it over the wire: at 20,000
// people the start-up scans allocated 14.8 GB, most of it there. This
// reads the same rows (the embedded database's writes are this process's,
// the folder lock; SQLite's WAL gives the read one committed snapshot).
//
// fields, when given, are the top-level fields to convert (_id always,
// as a MongoDB projection includes it); the rest of each document is
// skipped, not converted. matchField, when set, keeps only the documents whose top-level
// string field of that name is one of matchIn. fn gets a document valid
// only during the call. Not embedded: an error (ask the database).
func (db *DB) ScanEmbedded(ctx context.Context, collection string, fields []string, matchField string, matchIn []string, fn func(bson.Raw) error) error {
	if !db.Embedded {
		return fmt.Errorf("database: scan %s: not embedded", collection)
	}
	file := db.EmbeddedFile()
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("database: open %s: %w", file, err)
	}
	defer conn.Close()
	table, err := embeddedTable(ctx, conn, collection)
	if err != nil || table == "" {
		return err
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT _ferretdb_sjson FROM "%s"`, table)) // #nosec G201 -- a FerretDB table name, quotes refused
	if err != nil {
		return fmt.Errorf("database: scan %s: %w", collection, err)
	}
	defer rows.Close()
	// The match and the fields are read here, not by SQLite's JSON
	// functions: they parse the whole text again for each field asked.
	sel := scanSelection{fields: fields, matchField: matchField}
	if matchField != "" {
		sel.in = make(map[string]struct{}, len(matchIn))
		for _, v := range matchIn {
			sel.in[v] = struct{}{}
		}
	}
	var (
		buf  []byte
		text sql.RawBytes
		conv = newConverter()
	)
	for rows.Next() {
		if err := rows.Scan(&text); err != nil {
			return fmt.Errorf("database: scan %s: %w", collection, err)
		}
		var keep bool
		buf, keep, err = conv.document(buf[:0], text, &sel)
		if err != nil {
			return fmt.Errorf("database: scan %s: %w", collection, err)
		}
		if !keep {
			continue
		}
		if err := fn(bson.Raw(buf)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("database: scan %s: %w", collection, err)
	}
	return nil
}

// embeddedTable is the SQLite table of a collection ("" when it was never
// written).
func embeddedTable(ctx context.Context, conn *sql.DB, collection string) (string, error) {
	var table string
	err := conn.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table)
	switch {
	case err != nil && strings.Contains(err.Error(), "no such table"), errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("database: table of %s: %w", collection, err)
	case strings.ContainsAny(table, `"'`):
		return "", fmt.Errorf("database: table of %s: unexpected name %q", collection, table)
	}
	return table, nil
}

// scanSelection is what a scan keeps: the documents whose string field
// matchField is in in (matchField empty: all), with only fields and _id
// (nil: all).
type scanSelection struct {
	fields     []string
	matchField string
	in         map[string]struct{}
}

func (s *scanSelection) wants(key string) bool {
	return s.fields == nil || key == "_id" || slices.Contains(s.fields, key)
}

// sjsonSchema and sjsonElem are FerretDB v1's sjson schema (its
// internal/handler/sjson: the document's "$s").
type sjsonSchema struct {
	P map[string]*sjsonElem `json:"p"`
	K []string              `json:"$k"`
}

type sjsonElem struct {
	T string       `json:"t"`
	S *sjsonSchema `json:"$s"`
	O *string      `json:"o"`
	I []*sjsonElem `json:"i"`
	B *byte        `json:"s"` // binData's subtype
}

// converter turns sjson into BSON; it keeps the schemas it parsed, by
// their text: a collection's documents mostly share a few.
type converter struct {
	schemas map[string]*sjsonSchema
	members []member // the top level's, reused
}

// maxSchemas bounds each of the converter's caches.
const maxSchemas = 1024

func newConverter() *converter {
	return &converter{schemas: map[string]*sjsonSchema{}}
}

func cached[T any](m map[string]T, raw []byte, parse func(*T) error) (T, error) {
	if v, ok := m[string(raw)]; ok {
		return v, nil
	}
	var v T
	if err := parse(&v); err != nil {
		return v, err
	}
	if len(m) < maxSchemas {
		m[string(raw)] = v
	}
	return v, nil
}

func (c *converter) schema(raw []byte) (*sjsonSchema, error) {
	return cached(c.schemas, raw, func(v **sjsonSchema) error { return json.Unmarshal(raw, v) })
}

// document appends the BSON of an sjson document, or of the fields sel
// names; keep is false (and nothing appended) when sel's match rejects it.
func (c *converter) document(dst, text []byte, sel *scanSelection) (out []byte, keep bool, err error) {
	c.members, err = objectMembers(text, c.members[:0])
	if err != nil {
		return dst, false, fmt.Errorf("sjson: %w", err)
	}
	members := c.members
	var sch *sjsonSchema
	for i, m := range members {
		if string(m.key) == "$s" {
			if sch, err = c.schema(m.val); err != nil {
				return dst, false, fmt.Errorf("sjson schema: %w", err)
			}
			if i == 0 { // where FerretDB writes it
				members = members[1:]
			} else {
				members = append(members[:i:i], members[i+1:]...)
			}
			break
		}
	}
	if sch == nil {
		return dst, false, errors.New("sjson: no schema")
	}
	if len(members) != len(sch.K) {
		return dst, false, errors.New("sjson: fields and schema differ")
	}
	if sel.matchField != "" {
		j := slices.IndexFunc(members, func(m member) bool { return string(m.key) == sel.matchField })
		if e := sch.P[sel.matchField]; j < 0 || e == nil || e.T != "string" {
			return dst, false, nil
		}
		v, err := jsonString(members[j].val)
		if err != nil {
			return dst, false, fmt.Errorf("sjson: %w", err)
		}
		if _, ok := sel.in[v]; !ok {
			return dst, false, nil
		}
	}
	idx, dst := bsoncore.AppendDocumentStart(dst)
	for i, k := range sch.K {
		if !sel.wants(k) {
			continue
		}
		if dst, err = appendMember(dst, members, i, k, sch); err != nil {
			return dst, false, err
		}
	}
	dst, err = bsoncore.AppendDocumentEnd(dst, idx)
	return dst, err == nil, err
}

// jsonString is the string of a raw JSON string.
func jsonString(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// member is a key and the raw JSON of its value, both within the text.
type member struct{ key, val []byte }

func appendObject(dst []byte, members []member, sch *sjsonSchema) ([]byte, error) {
	if len(members) != len(sch.K) {
		return dst, errors.New("sjson: fields and schema differ")
	}
	idx, dst := bsoncore.AppendDocumentStart(dst)
	for i, k := range sch.K {
		var err error
		if dst, err = appendMember(dst, members, i, k, sch); err != nil {
			return dst, err
		}
	}
	return bsoncore.AppendDocumentEnd(dst, idx)
}

// appendMember appends field k, the schema's i-th, from members.
func appendMember(dst []byte, members []member, i int, k string, sch *sjsonSchema) ([]byte, error) {
	j := i // FerretDB writes the fields in the schema's order
	if string(members[j].key) != k {
		if j = slices.IndexFunc(members, func(m member) bool { return string(m.key) == k }); j < 0 {
			return dst, fmt.Errorf("sjson: field %q missing", k)
		}
	}
	e := sch.P[k]
	if e == nil {
		return dst, fmt.Errorf("sjson: field %q has no schema", k)
	}
	return appendValue(dst, k, members[j].val, e)
}

// objectMembers appends the members of the JSON object b to out, without
// copying or unescaping (a key with an escape is unescaped, rare).
func objectMembers(b []byte, out []member) ([]member, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return out, errors.New("not an object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return out, errors.New("no key")
		}
		end, err := skipValue(b, i)
		if err != nil {
			return out, err
		}
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var k string
			if err := json.Unmarshal(b[i:end], &k); err != nil {
				return out, err
			}
			key = []byte(k)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return out, errors.New("no colon")
		}
		i = skipSpace(b, i+1)
		if end, err = skipValue(b, i); err != nil {
			return out, err
		}
		out = append(out, member{key, b[i:end]})
		i = skipSpace(b, end)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return out, nil
		default:
			return out, errors.New("unterminated object")
		}
	}
}

// arrayItems appends the raw JSON of each item of the array b to out.
func arrayItems(b []byte, out [][]byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return out, errors.New("not an array")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, nil
	}
	for {
		end, err := skipValue(b, i)
		if err != nil {
			return out, err
		}
		out = append(out, b[i:end])
		i = skipSpace(b, end)
		switch {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			return out, nil
		default:
			return out, errors.New("unterminated array")
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("no value")
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return len(b), errors.New("unterminated string")
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipValue(b, j)
				if err != nil {
					return end, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return len(b), errors.New("unterminated value")
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
		j++
	}
	if j == i {
		return j, errors.New("no value")
	}
	return j, nil
}

// appendStringBytes appends a string element from the raw JSON of a
// string: as it is when it has no escape (Go's encoder leaves other text,
// Chinese too, unescaped), else decoded.
func appendStringBytes(dst []byte, key string, raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return dst, errors.New("not a string")
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') >= 0 {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return dst, err
		}
		return bsoncore.AppendStringElement(dst, key, s), nil
	}
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		var s string // as encoding/json would read it
		if err := json.Unmarshal(raw, &s); err != nil {
			return dst, err
		}
		return bsoncore.AppendStringElement(dst, key, s), nil
	}
	dst = bsoncore.AppendHeader(dst, bsoncore.TypeString, key)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)+1)) // #nosec G115 -- a document's string
	dst = append(dst, body...)
	return append(dst, 0), nil
}

// appendValue appends one element, as FerretDB's sjson.unmarshalSingleValue
// reads it.
func appendValue(dst []byte, key string, v []byte, e *sjsonElem) ([]byte, error) {
	if bytes.Equal(v, []byte("null")) {
		return bsoncore.AppendNullElement(dst, key), nil
	}
	bad := func(err error) ([]byte, error) {
		return dst, fmt.Errorf("sjson: field %q (%s): %w", key, e.T, err)
	}
	switch e.T {
	case "object":
		if e.S == nil {
			return bad(errors.New("no schema"))
		}
		m, err := objectMembers(v, nil)
		if err != nil {
			return bad(err)
		}
		dst = bsoncore.AppendHeader(dst, bsoncore.TypeEmbeddedDocument, key)
		return appendObject(dst, m, e.S)
	case "array":
		items, err := arrayItems(v, nil)
		if err != nil {
			return bad(err)
		}
		if len(items) != len(e.I) {
			return bad(errors.New("items and schema differ"))
		}
		idx, out := bsoncore.AppendArrayElementStart(dst, key)
		for i, it := range items {
			var err error
			if out, err = appendValue(out, strconv.Itoa(i), it, e.I[i]); err != nil {
				return out, err
			}
		}
		return bsoncore.AppendArrayEnd(out, idx)
	case "string":
		out, err := appendStringBytes(dst, key, v)
		if err != nil {
			return bad(err)
		}
		return out, nil
	case "int":
		n, err := strconv.ParseInt(string(v), 10, 32)
		if err != nil {
			return bad(err)
		}
		return bsoncore.AppendInt32Element(dst, key, int32(n)), nil
	case "long", "date":
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return bad(err)
		}
		if e.T == "date" {
			return bsoncore.AppendDateTimeElement(dst, key, n), nil
		}
		return bsoncore.AppendInt64Element(dst, key, n), nil
	case "double":
		var f float64
		if err := json.Unmarshal(v, &f); err != nil {
			return bad(err)
		}
		return bsoncore.AppendDoubleElement(dst, key, f), nil
	case "bool":
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return bad(err)
		}
		return bsoncore.AppendBooleanElement(dst, key, b), nil
	case "objectId":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return bad(err)
		}
		oid, err := bson.ObjectIDFromHex(s)
		if err != nil {
			return bad(err)
		}
		return bsoncore.AppendObjectIDElement(dst, key, oid), nil
	case "binData":
		var b []byte
		if err := json.Unmarshal(v, &b); err != nil {
			return bad(err)
		}
		if e.B == nil {
			return bad(errors.New("no subtype"))
		}
		return bsoncore.AppendBinaryElement(dst, key, *e.B, b), nil
	case "regex":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return bad(err)
		}
		if e.O == nil {
			return bad(errors.New("no options"))
		}
		return bsoncore.AppendRegexElement(dst, key, s, *e.O), nil
	case "timestamp":
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return bad(err)
		}
		return bsoncore.AppendTimestampElement(dst, key, uint32(n>>32), uint32(n&math.MaxUint32)), nil // #nosec G115 -- the two halves
	}
	return bad(errors.New("unknown type"))
}
