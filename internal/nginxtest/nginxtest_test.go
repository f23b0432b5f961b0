package nginxtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSubstitute(t *testing.T) {
	conf := "upstream go_site { server 127.0.0.1:8000; }\nupstream django_site { server 127.0.0.1:8001; }\nlisten 127.0.0.1:8080;\nproxy_pass http://go_site;\n"
	got, err := Substitute(conf, map[string]string{"go_site": "go_1", "127.0.0.1:8000": "127.0.0.1:1", "127.0.0.1:8080": "127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	want := "upstream go_1 { server 127.0.0.1:1; }\nupstream django_site { server 127.0.0.1:8001; }\nlisten 127.0.0.1:2;\nproxy_pass http://go_1;\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := Substitute(conf, map[string]string{"127.0.0.1:9999": "x", "site": "y"}); err == nil || !strings.Contains(err.Error(), "127.0.0.1:9999") || !strings.Contains(err.Error(), `"site"`) {
		t.Errorf("missing keys: %v", err)
	}
}

// TestStart: nginx proxies to a backend the test runs, on the port Start
// chose, and passes the Host the client sent.
func TestStart(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "host="+r.Host+" path="+r.URL.Path)
	}))
	t.Cleanup(backend.Close)
	conf := `server {
    listen 127.0.0.1:8080;
    location / {
        proxy_set_header Host $http_host;
        proxy_pass http://127.0.0.1:8000;
    }
}
`
	s := Start(t, Site{Conf: conf, Listen: "127.0.0.1:8080", Replace: map[string]string{"127.0.0.1:8000": strings.TrimPrefix(backend.URL, "http://")}})
	resp, err := http.Get(s.URL(0) + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "host=" + strings.TrimPrefix(s.URL(0), "http://") + " path=/hello"; string(body) != want {
		t.Errorf("got %q, want %q\n%s", body, want, s.ErrorLog())
	}
	if got := s.Requests(0); len(got) != 1 || got[0] != (Request{Status: 200, Method: "GET", URI: "/hello"}) {
		t.Errorf("access log %+v", got)
	}
}
