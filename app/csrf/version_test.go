package csrf

import (
	"strconv"
	"strings"
)

// versionBefore reports whether the Django release series ("3.2") is
// older than v ("4.1").
func versionBefore(series, v string) bool {
	parse := func(s string) (int, int) {
		major, minor, _ := strings.Cut(s, ".")
		a, _ := strconv.Atoi(major)
		b, _ := strconv.Atoi(minor)
		return a, b
	}
	a1, b1 := parse(series)
	a2, b2 := parse(v)
	return a1 < a2 || a1 == a2 && b1 < b2
}
