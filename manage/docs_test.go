package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/internal/docscheck"
)

// TestDocsCommands: every manage command the docs name (README.md and
// docs/*.md, in command lines and in code spans) is one manage's own
// dispatch knows: it answers "-h" with exit status 0; every --flag the
// docs give it is in the usage that prints; and every command of manage's
// usage, and every sessions command, is named somewhere in the docs.
func TestDocsCommands(t *testing.T) {
	files, err := docscheck.Files("..")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	checked := 0
	for _, f := range files {
		cmds, err := f.Commands()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			words := docscheck.Words(c.Text)
			for i, w := range words {
				if w != "manage" && !strings.HasSuffix(w, "/manage") || i+1 == len(words) {
					continue
				}
				args := []string{words[i+1]}
				if !regexp.MustCompile(`^[a-z]+$`).MatchString(args[0]) {
					continue // "manage -h", "manage COMMAND", "go build -o bin/manage ./manage"
				}
				if args[0] == "sessions" && i+2 < len(words) && !strings.HasPrefix(words[i+2], "-") {
					args = append(args, words[i+2])
				}
				checked++
				documented[strings.Join(args, " ")] = true
				var stdout, stderr bytes.Buffer
				code := runWithInput(t.Context(), append(args, "-h"), func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
				if code != exitOK {
					t.Errorf("%s:%d: manage %s: manage does not know it (-h exits %d: %s)", f.Path, c.Line, strings.Join(args, " "), code, strings.TrimSpace(stderr.String()))
					continue
				}
				for _, flagWord := range words[i+1+len(args):] {
					if !strings.HasPrefix(flagWord, "--") {
						continue
					}
					name, _, _ := strings.Cut(flagWord, "=")
					if !regexp.MustCompile(`(^|[\s\[|])` + regexp.QuoteMeta(name) + `\b`).MatchString(stdout.String()) {
						t.Errorf("%s:%d: manage %s %s: no such option in its usage:\n%s", f.Path, c.Line, strings.Join(args, " "), name, stdout.String())
					}
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d manage commands found in the docs: is the parsing broken?", checked)
	}
	for _, name := range usageCommands(usage, "Commands:") {
		if name == "help" {
			continue
		}
		if !documented[name] && !documentedPrefix(documented, name+" ") {
			t.Errorf("manage %s is in manage's usage but no page of the docs names it", name)
		}
	}
	for _, name := range usageCommands(sessionsUsage, "") {
		if !documented["sessions "+name] {
			t.Errorf("manage sessions %s is in its usage but no page of the docs names it", name)
		}
	}
}

// usageCommands returns the command names of a usage text: the first word
// of each line indented by two spaces exactly, after the line after.
func usageCommands(text, after string) []string {
	_, rest, _ := strings.Cut(text, after)
	var out []string
	for _, line := range strings.Split(rest, "\n") {
		if m := regexp.MustCompile(`^  ([a-z]+)\b`).FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

func documentedPrefix(documented map[string]bool, prefix string) bool {
	for d := range documented {
		if strings.HasPrefix(d, prefix) {
			return true
		}
	}
	return false
}
