package lesson

import (
	"fmt"
	"strings"
)

// Limits of lesson Markdown. goldmark's time grows faster than the text on
// some shapes (unclosed links "[a](" repeated, deeply nested quotes, wide
// tables whose rows are padded to the header, mixed emphasis markers), so
// what HR may save is bounded well above any real lesson: the shipped
// lessons are under 5 KB with quotes two deep. Within these limits every
// shape measured renders in a few milliseconds (see limits_test.go).
const (
	MaxFileBytes   = 128 << 10 // a whole lesson file
	maxNesting     = 8         // quote markers and list items opened on one line
	maxIndent      = 32        // leading columns (lists nest by indentation)
	maxBrackets    = 64        // '[' in one block (paragraph)
	maxContainers  = 2000      // quote and list markers in the whole file
	maxDelimiters  = 256       // '*' and '_' in one block
	maxTableCells  = 64        // '|' on one line
	maxTableRows   = 500       // lines with '|' in one block
	maxRun         = 32        // one of [ ( < > * _ ! { repeated in a row
	runCharacters  = "[(<>*_!{"
	tabWidthColumn = 4
)

// Limit kinds, for messages in the user's language (locale keys md.limit.KIND).
const (
	LimitSize     = "size"
	LimitNesting  = "nesting"
	LimitQuotes   = "quotes"
	LimitIndent   = "indent"
	LimitBrackets = "brackets"
	LimitEmphasis = "emphasis"
	LimitTable    = "table"
	LimitRun      = "run"
)

// LimitError is the first limit a text exceeds: its kind, the line of the
// file, and the limit.
type LimitError struct {
	Kind  string
	Line  int
	Limit int
}

func (e *LimitError) Error() string {
	var what string
	switch e.Kind {
	case LimitSize:
		return fmt.Sprintf("lesson: line 1: a lesson file is at most %d KB", e.Limit>>10)
	case LimitNesting:
		what = fmt.Sprintf("quotes (>) and lists nest at most %d deep on a line", e.Limit)
	case LimitQuotes:
		what = fmt.Sprintf("a file has at most %d quote (>) and list markers", e.Limit)
	case LimitIndent:
		what = fmt.Sprintf("a line is indented at most %d columns", e.Limit)
	case LimitBrackets:
		what = fmt.Sprintf("a paragraph has at most %d '['", e.Limit)
	case LimitEmphasis:
		what = fmt.Sprintf("a paragraph has at most %d '*' and '_'", e.Limit)
	case LimitTable:
		what = fmt.Sprintf("a table has at most %d columns and %d rows", maxTableCells, maxTableRows)
	case LimitRun:
		what = fmt.Sprintf("one of %s repeats at most %d times in a row", runCharacters, e.Limit)
	}
	return fmt.Sprintf("lesson: line %d: %s", e.Line, what)
}

// Problem is the limit as a problem of file, worded by "prob.limit." keys.
func (e *LimitError) Problem(file string) Problem {
	args := []any{e.Limit}
	switch e.Kind {
	case LimitSize:
		args = []any{e.Limit >> 10}
	case LimitTable:
		args = []any{maxTableCells, maxTableRows}
	}
	return Problem{File: file, Line: e.Line, Msg: strings.TrimPrefix(e.Message(), fmt.Sprintf("line %d: ", e.Line)),
		Key: "prob.limit." + e.Kind, Args: args}
}

// Message is the error without the package prefix, for authors.
func (e *LimitError) Message() string { return strings.TrimPrefix(e.Error(), "lesson: ") }

// CheckLimits returns the first limit text (a whole lesson file) exceeds,
// or nil. It is linear in the text and cheap enough to run on every save.
func CheckLimits(text string) *LimitError {
	if len(text) > MaxFileBytes {
		return &LimitError{Kind: LimitSize, Line: 1, Limit: MaxFileBytes}
	}
	var brackets, delims, tableRows, containers int
	blockStart := 1
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		if strings.TrimSpace(line) == "" {
			brackets, delims, tableRows, blockStart = 0, 0, 0, n+1
			continue
		}
		if indent(line) > maxIndent {
			return &LimitError{Kind: LimitIndent, Line: n, Limit: maxIndent}
		}
		depth := nesting(line)
		if depth > maxNesting {
			return &LimitError{Kind: LimitNesting, Line: n, Limit: maxNesting}
		}
		// Each marker is an element: many shallow ones multiply the output.
		if containers += depth; containers > maxContainers {
			return &LimitError{Kind: LimitQuotes, Line: n, Limit: maxContainers}
		}
		pipes := strings.Count(line, "|")
		if pipes > 0 {
			tableRows++
		}
		if pipes > maxTableCells || tableRows > maxTableRows {
			return &LimitError{Kind: LimitTable, Line: n, Limit: maxTableCells}
		}
		brackets += strings.Count(line, "[")
		if brackets > maxBrackets {
			return &LimitError{Kind: LimitBrackets, Line: blockStart, Limit: maxBrackets}
		}
		delims += strings.Count(line, "*") + strings.Count(line, "_")
		if delims > maxDelimiters {
			return &LimitError{Kind: LimitEmphasis, Line: blockStart, Limit: maxDelimiters}
		}
		if longestRun(line) > maxRun {
			return &LimitError{Kind: LimitRun, Line: n, Limit: maxRun}
		}
	}
	return nil
}

func indent(line string) int {
	cols := 0
	for _, r := range line {
		switch r {
		case ' ':
			cols++
		case '\t':
			cols += tabWidthColumn
		default:
			return cols
		}
	}
	return cols
}

// nesting counts the containers a line opens or continues: quote markers
// and list markers before its text ("> - > 1. text" is four).
func nesting(line string) int {
	depth := 0
	s := line
	for {
		s = strings.TrimLeft(s, " \t")
		switch {
		case strings.HasPrefix(s, ">"):
			s = s[1:]
		case len(s) > 1 && strings.ContainsRune("-*+", rune(s[0])) && (s[1] == ' ' || s[1] == '\t'):
			s = s[2:]
		default:
			j := 0
			for j < len(s) && j < 9 && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == 0 || j+1 >= len(s) || (s[j] != '.' && s[j] != ')') || (s[j+1] != ' ' && s[j+1] != '\t') {
				return depth
			}
			s = s[j+2:]
		}
		depth++
	}
}

func longestRun(line string) int {
	best, run := 0, 0
	var prev byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == prev && strings.IndexByte(runCharacters, c) >= 0 {
			run++
		} else {
			run = 1
		}
		prev = c
		best = max(best, run)
	}
	return best
}
