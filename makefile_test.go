package main_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestMakeHelp: make help lists every documented target of the Makefile,
// with the descriptions in one column whatever the length of the names.
func TestMakeHelp(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but make is missing: %v", err)
		}
		t.Skip("make not found")
	}
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	documented := regexp.MustCompile(`(?m)^([a-z-]+):.*## (.*)$`).FindAllStringSubmatch(string(makefile), -1)
	if len(documented) < 10 {
		t.Fatalf("only %d documented targets in the Makefile", len(documented))
	}
	out, err := exec.Command("make", "--no-print-directory", "-s", "help").Output()
	if err != nil {
		t.Fatalf("make help: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(documented) {
		t.Fatalf("make help lists %d targets, the Makefile documents %d:\n%s", len(lines), len(documented), out)
	}
	column := -1
	for i, line := range lines {
		name, text := documented[i][1], documented[i][2]
		if !strings.HasPrefix(line, "  "+name+" ") || !strings.HasSuffix(line, "  "+text) {
			t.Errorf("line %q, want target %s and %q", line, name, text)
			continue
		}
		at := len(line) - len(text)
		if column < 0 {
			column = at
		}
		if at != column {
			t.Errorf("description of %s starts at column %d, others at %d:\n%s", name, at, column, out)
		}
	}
}
