package djangotest

import (
	"path/filepath"
	"testing"
)

// Reference returns a project that serves the Django reference site of
// the demo (views/django: the views the Go site shows, their templates,
// and a settings module with Django's own session, CSRF, authentication
// and messages middleware) on the database and keys of opts, instead of
// the test site djangosite. Its settings read, besides the database and
// keys, DJANGO_SESSION_ENGINE, DJANGO_CSRF_USE_SESSIONS ("1") and
// DJANGO_CSRF_TRUSTED_ORIGINS from opts.Env (see views/django/settings.py).
// Start serves it; Manage and Shell run with its settings.
func Reference(t testing.TB, opts Options) *Project {
	t.Helper()
	p := New(t, opts)
	p.env = append(p.env, "DJANGO_SITE_DIR="+referenceDir(t), "DJANGO_SETTINGS_MODULE=settings")
	return p
}

// referenceDir is views/django in this module.
func referenceDir(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("djangotest: the reference site: %v", err)
	}
	return filepath.Join(root, "views", "django")
}
