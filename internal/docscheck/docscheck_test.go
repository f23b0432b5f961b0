package docscheck

import (
	"slices"
	"strings"
	"testing"
)

func file(text string) File {
	return File{Path: "t.md", Lines: strings.Split(text, "\n")}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"A net/http application":                           "a-nethttp-application",
		"manage sessions: operating live sessions":         "manage-sessions-operating-live-sessions",
		"The reverse: Django joining a Go site's database": "the-reverse-django-joining-a-go-sites-database",
		"`SESSION_ENGINE` and [engines](engines.md)":       "session_engine-and-engines",
	} {
		if got := Slug(heading); got != want {
			t.Errorf("Slug(%q) = %q, want %q", heading, got, want)
		}
	}
	a := file("# Top\n## Part\n## Part\n```sh\n# not a heading\n```\n").Anchors()
	for _, want := range []string{"top", "part", "part-1"} {
		if !a[want] {
			t.Errorf("no anchor %q in %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Error("a comment in a fence made an anchor")
	}
}

func TestFencesAndMarkers(t *testing.T) {
	f := file("text\n<!-- go: a/b.go -->\n```go\npackage b\n```\n\n   ```json\n   {}\n   ```\n")
	fences, err := f.Fences()
	if err != nil {
		t.Fatal(err)
	}
	if len(fences) != 2 || fences[0].Lang != "go" || fences[0].Marker != "go: a/b.go" || fences[0].Body != "package b\n" || fences[0].Line != 3 || fences[0].End != 5 {
		t.Errorf("first fence %+v", fences[0])
	}
	if fences[1].Lang != "json" || fences[1].Body != "{}\n" || fences[1].Marker != "" {
		t.Errorf("indented fence %+v", fences[1])
	}
	if _, err := file("```sh\nopen\n").Fences(); err == nil {
		t.Error("an unclosed fence is no error")
	}
}

func TestTablesAndSpans(t *testing.T) {
	f := file("| a | b |\n|---|--:|\n| `x|y` | 2 |\n\nnot | a | table\n")
	tables := f.Tables()
	if len(tables) != 1 || !slices.Equal(tables[0].Header, []string{"a", "b"}) || len(tables[0].Rows) != 1 || tables[0].Rows[0][0] != "`x|y`" {
		t.Fatalf("tables %+v", tables)
	}
	p := file("Run `make\n  unit` then `go test`.\n\n- `a`\n- `b`").Paragraphs()
	if len(p) != 3 || !slices.Equal(CodeSpans(p[0].Text), []string{"make unit", "go test"}) || p[2].Line != 5 {
		t.Errorf("paragraphs %+v", p)
	}
}

func TestCommandsAndWords(t *testing.T) {
	f := file("```console\n$ manage sessions list\nKEY  EXPIRES\n```\n```sh\nmake test   # all\n```\nSee `make help`.\n")
	cmds, err := f.Commands()
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range cmds {
		texts = append(texts, c.Text)
	}
	if want := []string{"manage sessions list", "make test", "make help"}; !slices.Equal(texts, want) {
		t.Errorf("commands %q, want %q", texts, want)
	}
	if got := Words(`make bench BENCHFLAGS="-c 64 -rounds 4"`); !slices.Equal(got, []string{"make", "bench", "BENCHFLAGS=-c 64 -rounds 4"}) {
		t.Errorf("words %q", got)
	}
}

func TestLinks(t *testing.T) {
	f := file("[a](x.md#y) ![i](s.png) `[no](code.md)` <img src=\"p.png\" width=\"2\">\n```sh\n[no](fence.md)\n```\n")
	var got []string
	for _, l := range f.Links() {
		got = append(got, l.Target)
	}
	if want := []string{"x.md#y", "s.png", "p.png"}; !slices.Equal(got, want) {
		t.Errorf("links %q, want %q", got, want)
	}
}
