// Package docscheck reads the project's Markdown (README.md and docs/*.md)
// for the tests that hold the docs to the code: its fenced blocks, tables,
// inline code, links and headings. It knows the small part of Markdown the
// docs use, not all of CommonMark: fences of three backticks, pipe tables,
// `code` spans, [text](target) links, ![alt](src) images and <img src>.
package docscheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// File is one Markdown file: its path, relative to the repository root
// and with forward slashes, and its lines.
type File struct {
	Path  string
	Lines []string
}

// Files reads README.md and every docs/*.md under root, the repository.
func Files(root string) ([]File, error) {
	paths := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	for _, m := range more {
		rel, err := filepath.Rel(root, m)
		if err != nil {
			return nil, err
		}
		paths = append(paths, filepath.ToSlash(rel))
	}
	var files []File
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return nil, fmt.Errorf("docscheck: %w", err)
		}
		files = append(files, File{Path: p, Lines: strings.Split(string(b), "\n")})
	}
	return files, nil
}

// Fence is a fenced code block.
type Fence struct {
	Lang string // the info string's first word: go, sh, console, text, json...
	// Marker is the HTML comment on the line above the fence, without
	// "<!--" and "-->" and trimmed ("go: docs/examples/echo/main.go"), or
	// "" when that line is no comment.
	Marker string
	Body   string // the lines between the fences, each ending in "\n"
	Line   int    // the opening fence's line, from 1
	// End is the closing fence's line, from 1.
	End int
}

// Fences returns the fenced blocks of f, in order. An unclosed fence is an
// error.
func (f File) Fences() ([]Fence, error) {
	var out []Fence
	for i := 0; i < len(f.Lines); i++ {
		indent, lang, ok := fenceOpen(f.Lines[i])
		if !ok {
			continue
		}
		fence := Fence{Lang: lang, Line: i + 1}
		if i > 0 {
			prev := strings.TrimSpace(f.Lines[i-1])
			if strings.HasPrefix(prev, "<!--") && strings.HasSuffix(prev, "-->") {
				fence.Marker = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(prev, "<!--"), "-->"))
			}
		}
		var body strings.Builder
		j := i + 1
		for ; j < len(f.Lines); j++ {
			if strings.TrimSpace(f.Lines[j]) == "```" {
				break
			}
			body.WriteString(strings.TrimPrefix(f.Lines[j], indent))
			body.WriteString("\n")
		}
		if j == len(f.Lines) {
			return nil, fmt.Errorf("%s:%d: the fence is never closed", f.Path, i+1)
		}
		fence.Body, fence.End = body.String(), j+1
		out = append(out, fence)
		i = j
	}
	return out, nil
}

// fenceOpen reports whether line opens a fence, with its indent and
// language.
func fenceOpen(line string) (indent, lang string, ok bool) {
	trimmed := strings.TrimLeft(line, " ")
	if !strings.HasPrefix(trimmed, "```") {
		return "", "", false
	}
	info := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
	if strings.Contains(info, "`") {
		return "", "", false // inline code that starts a line
	}
	lang, _, _ = strings.Cut(info, " ")
	return line[:len(line)-len(trimmed)], lang, true
}

// Prose returns f's lines with those of fenced blocks (fences included)
// blanked, so that line i+1 of the file is element i.
func (f File) Prose() []string {
	out := slices.Clone(f.Lines)
	fences, err := f.Fences()
	if err != nil {
		return out
	}
	for _, fe := range fences {
		for l := fe.Line - 1; l < fe.End; l++ {
			out[l] = ""
		}
	}
	return out
}

// Paragraph is a paragraph of prose (a list item, a table row and a
// heading are paragraphs too), its lines joined by spaces, so that a code
// span broken over two lines is whole.
type Paragraph struct {
	Text string
	Line int // its first line, from 1
}

// Paragraphs returns f's paragraphs of prose, outside fenced blocks.
func (f File) Paragraphs() []Paragraph {
	var out []Paragraph
	var cur []string
	start := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, Paragraph{Text: strings.Join(cur, " "), Line: start})
		}
		cur = nil
	}
	for i, line := range f.Prose() {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
			continue
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "|") || strings.HasPrefix(t, "#") || startsNumbered(t):
			flush()
		}
		if len(cur) == 0 {
			start = i + 1
		}
		cur = append(cur, t)
		if strings.HasPrefix(t, "|") || strings.HasPrefix(t, "#") {
			flush()
		}
	}
	flush()
	return out
}

// startsNumbered reports whether t starts an item of a numbered list.
func startsNumbered(t string) bool {
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	return i > 0 && strings.HasPrefix(t[i:], ". ")
}

// codeSpan is one `code` span (of single backticks, or double ones around
// text holding a backtick).
var codeSpan = regexp.MustCompile("``([^`]+)``|`([^`]+)`")

// CodeSpans returns the inline code of text, a paragraph or a line of
// prose.
func CodeSpans(line string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
		out = append(out, strings.TrimSpace(m[1]+m[2]))
	}
	return out
}

// Table is a pipe table.
type Table struct {
	Header []string
	Rows   [][]string
	Line   int // the header's line, from 1
}

// Tables returns f's pipe tables: a header row, a delimiter row (|---|),
// then rows, each cell trimmed. A | inside a code span does not split a
// cell.
func (f File) Tables() []Table {
	prose := f.Prose()
	var out []Table
	for i := 0; i+1 < len(prose); i++ {
		if !isRow(prose[i]) || !isDelimiter(prose[i+1]) {
			continue
		}
		t := Table{Header: cells(prose[i]), Line: i + 1}
		j := i + 2
		for ; j < len(prose) && isRow(prose[j]); j++ {
			t.Rows = append(t.Rows, cells(prose[j]))
		}
		out = append(out, t)
		i = j
	}
	return out
}

func isRow(line string) bool {
	l := strings.TrimSpace(line)
	return strings.HasPrefix(l, "|") && strings.HasSuffix(l, "|") && len(l) > 1
}

var delimiter = regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+$`)

func isDelimiter(line string) bool { return delimiter.MatchString(strings.TrimSpace(line)) }

// cells splits a table row at the pipes outside code spans.
func cells(line string) []string {
	l := strings.TrimSpace(line)
	l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
	var out []string
	var cell strings.Builder
	inCode := false
	for _, r := range l {
		switch {
		case r == '`':
			inCode = !inCode
		case r == '|' && !inCode:
			out = append(out, strings.TrimSpace(cell.String()))
			cell.Reset()
			continue
		}
		cell.WriteRune(r)
	}
	return append(out, strings.TrimSpace(cell.String()))
}

// TableWithHeader returns the tables of files whose header starts with
// the cells first.
func TableWithHeader(files []File, first ...string) []Table {
	var out []Table
	for _, f := range files {
		for _, t := range f.Tables() {
			if len(t.Header) >= len(first) && slices.Equal(t.Header[:len(first)], first) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Link is a link or an image of a page.
type Link struct {
	Target string // as written: a URL, a path, a path#anchor, or #anchor
	Line   int    // from 1
}

var (
	mdLink  = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	htmlSrc = regexp.MustCompile(`<(?:img|a)\s[^>]*(?:src|href)="([^"]+)"`)
)

// Links returns the links and images of f's prose, outside code spans.
func (f File) Links() []Link {
	var out []Link
	for i, line := range f.Prose() {
		line = codeSpan.ReplaceAllString(line, "")
		for _, re := range []*regexp.Regexp{mdLink, htmlSrc} {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				out = append(out, Link{Target: m[1], Line: i + 1})
			}
		}
	}
	return out
}

// Anchors returns the anchors of f's headings, as GitHub makes them:
// lower case, punctuation dropped but for - and _, spaces as -, and -1,
// -2... after a repeated one.
func (f File) Anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range f.Prose() {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		if text == "" || !strings.HasPrefix(line[len(line)-len(strings.TrimLeft(line, "#")):], " ") {
			continue
		}
		a := Slug(text)
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// Slug is GitHub's anchor of a heading's text.
func Slug(heading string) string {
	heading = mdLink.ReplaceAllStringFunc(heading, func(s string) string {
		return s[strings.Index(s, "[")+1 : strings.Index(s, "]")]
	})
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// Commands returns the command lines of f: each line of its sh and console
// fences (a console line only when it starts with "$ ", without it), and
// each code span of its prose. Comments (from " #") are cut off.
func (f File) Commands() ([]Command, error) {
	var out []Command
	fences, err := f.Fences()
	if err != nil {
		return nil, err
	}
	for _, fe := range fences {
		if fe.Lang != "sh" && fe.Lang != "console" {
			continue
		}
		for k, line := range strings.Split(strings.TrimSuffix(fe.Body, "\n"), "\n") {
			if fe.Lang == "console" {
				var ok bool
				if line, ok = strings.CutPrefix(line, "$ "); !ok {
					continue
				}
			}
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			if strings.TrimSpace(line) != "" {
				out = append(out, Command{Text: strings.TrimSpace(line), Line: fe.Line + 1 + k})
			}
		}
	}
	for _, p := range f.Paragraphs() {
		for _, span := range CodeSpans(p.Text) {
			out = append(out, Command{Text: span, Line: p.Line})
		}
	}
	return out, nil
}

// Command is a command line of a page, or a code span that may hold one.
type Command struct {
	Text string
	Line int
}

// Words splits a command line into words, keeping quoted strings whole
// (without their quotes).
func Words(line string) []string {
	var out []string
	var w strings.Builder
	var quote rune
	inWord := false
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				continue
			}
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case unicode.IsSpace(r):
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, w.String())
	}
	return out
}

// testFunc is a test function's declaration in a _test.go file.
var testFunc = regexp.MustCompile(`(?m)^func (Test\w+)\(`)

// TestFuncs returns the names of every test function declared in the
// _test.go files under root, the repository (hidden folders and the
// download cache skipped): what the docs may name as the test of a claim.
func TestFuncs(root string) (map[string]bool, error) {
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("docscheck: test functions under %s: %w", root, err)
	}
	return names, nil
}
