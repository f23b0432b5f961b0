package templates

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Code is one function's source, split into lines for a panel that
// soft-wraps long lines instead of scrolling sideways.
type Code struct {
	// Name says what the code is and where it lives, as in
	// "(*Handlers).set in views/session.go".
	Name string
	// Lines are the source's lines, in order.
	Lines []CodeLine
}

// CodeLine is one line of source, ready to render. A line longer than its
// panel wraps at spaces, and the continuation is indented past the line's
// own indentation (a hanging indent, done in CSS from Depth: no inline
// style is needed, so a strict Content-Security-Policy holds).
type CodeLine struct {
	// Depth is the line's indentation level: leading tabs, or leading
	// spaces in fours (Python), at most MaxDepth.
	Depth int
	// Parts are the line's text, cut where a long run without spaces may
	// break (see codeParts): the page may wrap the line there or at a
	// space, and never inside a name. Joined, they are the line.
	Parts []string
}

// MaxDepth is the deepest indentation level the stylesheet has a hanging
// indent for (the .d0 to .d8 classes of site.css); deeper lines wrap as if
// at this level.
const MaxDepth = 8

// minBreakable is the length from which a run of code without spaces gets
// break opportunities inside it (see codeParts). A shorter one fits on the
// narrowest panel, and breaking it would only look odd.
const minBreakable = 16

// NewCode splits src into lines for display under name. Trailing blank
// lines are dropped; the text is otherwise kept as it is, tabs included,
// so that copying from the page gives the source back.
func NewCode(name, src string) Code {
	c := Code{Name: name}
	for line := range strings.SplitSeq(strings.TrimRight(src, " \t\n"), "\n") {
		c.Lines = append(c.Lines, CodeLine{Depth: depth(line), Parts: codeParts(line)})
	}
	return c
}

// Source returns the code's text: its lines joined with newlines.
func (c Code) Source() string {
	var b strings.Builder
	for i, l := range c.Lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		for _, p := range l.Parts {
			b.WriteString(p)
		}
	}
	return b.String()
}

// depth is the indentation level of line: a tab is a level, four spaces
// are a level.
func depth(line string) int {
	cols := 0
loop:
	for _, r := range line {
		switch r {
		case '\t':
			cols += 4
		case ' ':
			cols++
		default:
			break loop
		}
	}
	return min(cols/4, MaxDepth)
}

// lineClass is the CSS class of a code line at depth d.
func lineClass(d int) string {
	return "ln d" + string(rune('0'+min(max(d, 0), MaxDepth)))
}

// isNameRune reports whether r can be part of an identifier.
func isNameRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// codeParts cuts a line of code where it may wrap besides its spaces: in
// each run without spaces at least minBreakable long, after an opening
// bracket that is not closed at once (cleanUsername( | c.FormValue), and
// after a dot between two names or after a call (request. | session.,
// UTC(). | Format) unless the name before it is a single letter (c.Set
// stays whole). So a line never breaks inside an identifier, and short
// runs never break at all.
func codeParts(line string) []string {
	var parts []string
	start := 0 // start of the current part
	for _, run := range runs(line) {
		if utf8.RuneCountInString(line[run[0]:run[1]]) < minBreakable {
			continue
		}
		nameLen := 0 // length of the name just before i
		prev := rune(0)
		for i, r := range line[run[0]:run[1]] {
			at := run[0] + i
			next, _ := utf8.DecodeRuneInString(line[at+utf8.RuneLen(r):])
			cut := false
			switch {
			case strings.ContainsRune("([{", r):
				cut = at+1 < run[1] && !strings.ContainsRune(")]}", next)
			case r == '.':
				cut = isNameRune(next) && (nameLen >= 2 || prev == ')' || prev == ']')
			}
			if cut {
				end := at + utf8.RuneLen(r)
				parts = append(parts, line[start:end])
				start = end
			}
			if isNameRune(r) {
				nameLen++
			} else {
				nameLen = 0
			}
			prev = r
		}
	}
	return append(parts, line[start:])
}

// runs returns the [start, end) byte offsets of the runs of s without
// spaces or tabs.
func runs(s string) [][2]int {
	var rs [][2]int
	start := -1
	for i, r := range s {
		space := r == ' ' || r == '\t'
		switch {
		case !space && start < 0:
			start = i
		case space && start >= 0:
			rs = append(rs, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		rs = append(rs, [2]int{start, len(s)})
	}
	return rs
}

// longKey is the length from which an inspector key may wrap: a shorter
// one always fits the inspector's key column on one line (it is kept whole),
// a longer one may break after _ . - / : and, failing those, anywhere.
const longKey = 24

// keyClass is the class of an inspector key's cell: a short key never
// wraps; a long one may (see keyParts).
func keyClass(k string) string {
	if utf8.RuneCountInString(k) > longKey {
		return "key long-key"
	}
	return "key"
}

// keyParts cuts a long session key after each _ . - / : so that it wraps
// at the boundaries of its words; a key of at most longKey characters
// stays whole.
func keyParts(k string) []string {
	if utf8.RuneCountInString(k) <= longKey {
		return []string{k}
	}
	var parts []string
	start := 0
	for i, r := range k {
		if strings.ContainsRune("_.-/:", r) && i+1 < len(k) {
			parts = append(parts, k[start:i+1])
			start = i + 1
		}
	}
	return append(parts, k[start:])
}

// duration spells a number of seconds for a reader, keeping the exact
// figure: "14 days (1209600 s)", "5 minutes (300 s)", "1 day 2 hours
// (93600 s)". It names at most the two largest units; when that drops a
// remainder, it says "about". Up to a minute it is just "45 s".
func duration(seconds int) string {
	if seconds < 60 && seconds > -60 {
		return strconv.Itoa(seconds) + " s"
	}
	units := []struct {
		name string
		size int
	}{{"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}}
	rest := seconds
	if rest < 0 {
		rest = -rest
	}
	var words []string
	for _, u := range units {
		if len(words) == 2 {
			break
		}
		n := rest / u.size
		if n == 0 {
			if len(words) > 0 {
				break // the next unit would not be the second largest
			}
			continue
		}
		rest -= n * u.size
		w := strconv.Itoa(n) + " " + u.name
		if n != 1 {
			w += "s"
		}
		words = append(words, w)
	}
	text := strings.Join(words, " ")
	if rest != 0 {
		text = "about " + text
	}
	if seconds < 0 {
		text = "minus " + text
	}
	return text + " (" + strconv.Itoa(seconds) + " s)"
}

// demoParts splits a demo link's text before its query, the one place
// where a long link may wrap: /accounts/login/ | ?next=/accounts/password/.
func demoParts(link string) []string {
	if i := strings.IndexByte(link, '?'); i > 0 {
		return []string{link[:i], link[i:]}
	}
	return []string{link}
}
