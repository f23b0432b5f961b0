package views_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"testing"
)

// apiFlash is a message as /api/messages answers it.
type apiFlash struct {
	Level   int    `json:"level"`
	Tags    string `json:"tags"`
	Message string `json:"message"`
}

func (s *site) apiMessages() []apiFlash {
	s.t.Helper()
	r := s.get("/api/messages")
	wantStatus(s.t, r, http.StatusOK)
	var body struct {
		Messages []apiFlash `json:"messages"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Messages == nil {
		s.t.Fatalf("/api/messages: %v %q", err, r.body)
	}
	return body.Messages
}

// TestFlashMessages: the editor's save, the login and the logout leave a
// message that the next page shows once, with its level, and never again.
func TestFlashMessages(t *testing.T) {
	s := newSite(t)
	s.addUser("alice", "pw")
	s.post("/session", url.Values{"key": {"colour"}, "value": {"blue"}})
	r := s.get("/")
	flash := r.doc.Find(`[data-testid="flash"]`)
	if flash.Length() != 1 || r.text("flash-text") != "Saved colour." || flash.AttrOr("data-level", "") != "25" || !flash.HasClass("flash-success") {
		t.Fatalf("home after the editor's save: %d messages, %q, level %q", flash.Length(), r.text("flash-text"), flash.AttrOr("data-level", ""))
	}
	if r := s.get("/"); r.doc.Find(`[data-testid="flash"]`).Length() != 0 {
		t.Error("the message was shown twice")
	}

	s.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"pw"}})
	if r := s.get("/accounts/profile/"); r.text("flash-text") != "You are logged in as alice." {
		t.Errorf("the profile after the login shows %q", r.text("flash-text"))
	}
	s.post("/accounts/logout/", nil)
	if r := s.get("/"); r.text("flash-text") != "You are logged out." || r.doc.Find(`.flash-info`).Length() != 1 {
		t.Errorf("home after the logout shows %q", r.text("flash-text"))
	}
}

// TestAPIMessages walks the contract's /api/messages row: a POST (with
// the CSRF token) adds a message of one of Django's levels, a GET returns
// the pending ones as JSON and consumes them; messages too large for the
// cookie go through the session, and come back all, in order.
func TestAPIMessages(t *testing.T) {
	s := newSite(t)
	if got := s.apiMessages(); len(got) != 0 {
		t.Fatalf("a new visitor has messages %v", got)
	}
	// The token is read once: a page read to get it would show the
	// messages, and consume them.
	token := s.csrfToken()
	add := func(form url.Values) *response {
		form.Set("csrfmiddlewaretoken", token)
		return s.postRaw("/api/messages", form)
	}
	for _, c := range []struct {
		form url.Values
		want int
	}{
		{url.Values{"level": {"30"}, "message": {"Disk almost full."}}, http.StatusCreated},
		{url.Values{"level": {"40"}, "message": {"<b>not bold</b> & \"quoted\""}}, http.StatusCreated},
		{url.Values{"level": {"10"}, "message": {"below MESSAGE_LEVEL"}}, http.StatusOK},
		{url.Values{"level": {"15"}, "message": {"not a level"}}, http.StatusBadRequest},
		{url.Values{"level": {"info"}, "message": {"x"}}, http.StatusBadRequest},
		{url.Values{"level": {"20"}, "message": {"  "}}, http.StatusBadRequest},
	} {
		if r := add(c.form); r.StatusCode != c.want {
			t.Errorf("POST %v: %d %s, want %d", c.form, r.StatusCode, r.body, c.want)
		}
	}
	if r := s.postRaw("/api/messages", url.Values{"level": {"20"}, "message": {"x"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("POST without the CSRF token: %d, want 403", r.StatusCode)
	}
	want := []apiFlash{{30, "warning", "Disk almost full."}, {40, "error", "<b>not bold</b> & \"quoted\""}}
	if got := s.apiMessages(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("GET /api/messages: %v, want %v", got, want)
	}
	if got := s.apiMessages(); len(got) != 0 {
		t.Fatalf("GET /api/messages again: %v, want none", got)
	}

	// Shown by a page, escaped, once.
	add(url.Values{"level": {"20"}, "message": {"<script>alert(1)</script>"}})
	r := s.get("/get")
	if r.text("flash-text") != "<script>alert(1)</script>" || r.doc.Find(".flash script").Length() != 0 {
		t.Errorf("the page shows the message as %q", r.text("flash-text"))
	}
	if got := s.apiMessages(); len(got) != 0 {
		t.Errorf("after the page: %v, want none", got)
	}

	// Too large for the 2048-byte cookie: the rest in the session.
	rnd := rand.New(rand.NewPCG(1, 2))
	var texts []string
	for i := range 4 {
		b := make([]byte, 900)
		for j := range b {
			b[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[rnd.IntN(36)]
		}
		texts = append(texts, fmt.Sprintf("%d %s", i, b))
		if r := add(url.Values{"level": {"25"}, "message": {texts[i]}}); r.StatusCode != http.StatusCreated {
			t.Fatalf("POST of a long message: %d %s", r.StatusCode, r.body)
		}
	}
	if n := len(s.cookie("messages")); n == 0 || n > 2048 {
		t.Errorf("the messages cookie holds %d bytes", n)
	}
	var api struct {
		Data map[string]any `json:"data"`
	}
	json.Unmarshal([]byte(s.get("/api/session").body), &api)
	if _, ok := api.Data["_messages"]; !ok {
		t.Fatalf("the session holds no _messages: %v", api.Data)
	}
	got := s.apiMessages()
	if len(got) != len(texts) {
		t.Fatalf("read %d messages, want %d", len(got), len(texts))
	}
	for i := range texts {
		if got[i].Message != texts[i] {
			t.Errorf("message %d: %.20q, want %.20q", i, got[i].Message, texts[i])
		}
	}
	api.Data = nil
	json.Unmarshal([]byte(s.get("/api/session").body), &api)
	if _, ok := api.Data["_messages"]; ok || s.cookie("messages") != "" {
		t.Error("the messages outlived their reading in the session or the cookie")
	}
}
