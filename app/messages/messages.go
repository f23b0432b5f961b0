package messages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Level is a message's importance, one of Django's message levels or a
// level of the site's own.
type Level int

// Django's message levels (django.contrib.messages.constants).
const (
	Debug   Level = 10
	Info    Level = 20
	Success Level = 25
	Warning Level = 30
	Error   Level = 40
)

// Tag is the level's tag, Django's DEFAULT_TAGS: "debug", "info",
// "success", "warning" or "error"; "" for a level of the site's own.
func (l Level) Tag() string {
	switch l {
	case Debug:
		return "debug"
	case Info:
		return "info"
	case Success:
		return "success"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return ""
}

// Message is one flash message, Django's storage.base.Message.
type Message struct {
	// Level is the message's level.
	Level Level
	// Text is the message (Django's message.message).
	Text string
	// ExtraTags are more tags for the page to use, space-separated
	// (Django's extra_tags).
	ExtraTags string
	// Safe is set on a message a Django view marked safe HTML
	// (mark_safe): Django's templates then show it unescaped. A Go page
	// escapes every message unless it chooses to trust this mark; Add
	// never sets it.
	Safe bool

	// noTags: the stored message had no extra_tags at all (Django's
	// None), which is written back so.
	noTags bool
}

// LevelTag is the tag of the message's level (Django's level_tag).
func (m Message) LevelTag() string { return m.Level.Tag() }

// Tags are the extra tags and the level's tag, space-separated (Django's
// message.tags): the classes a page gives the message.
func (m Message) Tags() string {
	switch {
	case m.ExtraTags == "":
		return m.LevelTag()
	case m.LevelTag() == "":
		return m.ExtraTags
	}
	return m.ExtraTags + " " + m.LevelTag()
}

// String returns the text, as Django's str(message).
func (m Message) String() string { return m.Text }

// Config holds the settings of a [Manager]. SecretKey is required.
type Config struct {
	// SecretKey is Django's SECRET_KEY: the messages cookie is signed
	// with it (Django's get_cookie_signer), so it must be the Django
	// site's.
	SecretKey string
	// SecretKeyFallbacks are older keys whose signatures are still
	// accepted (SECRET_KEY_FALLBACKS).
	SecretKeyFallbacks []string
	// Level is the lowest level recorded (MESSAGE_LEVEL); Add drops a
	// message below it. Default Info, as Django's.
	Level Level
	// CookieDomain, CookieSecure, DisableCookieHTTPOnly and
	// CookieSameSite are the attributes of the messages cookie: Django
	// gives it the session cookie's (SESSION_COOKIE_DOMAIN, _SECURE,
	// _HTTPONLY, _SAMESITE), with the path "/" and no expiry. As in
	// session.Config, the zero value is Django's default: HttpOnly, and
	// SameSite=Lax (http.SameSiteDefaultMode leaves SameSite out).
	CookieDomain          string
	CookieSecure          bool
	DisableCookieHTTPOnly bool
	CookieSameSite        http.SameSite
	// DjangoVersion is the release of the Django site that shares the
	// messages ("major.minor"; default: the newest). It decides one byte
	// of the format: a message without extra tags is written as Django
	// 4.1 and later write it (an empty extra_tags), or for an older
	// release without it. Every release reads both.
	DjangoVersion string
	// Now is the clock of the cookie's signature time. Default time.Now.
	Now func() time.Time
	// Logger receives warnings: a messages cookie that fails its
	// signature or does not decode, messages that could not be stored.
	// Default: discard.
	Logger *slog.Logger
}

// Manager is Django's messages framework (django.contrib.messages) with
// its default storage, FallbackStorage: the messages of a request are
// kept in a signed cookie, and those that do not fit in it in the
// session. Its middleware gives each request its messages; handlers use
// [Add] and [Get]. It is safe for concurrent use.
type Manager struct {
	cfg        Config
	signer     signer
	emptyTags  bool // write an empty extra_tags (Django 4.1 and later)
	cookieName string
}

// New validates cfg, fills its defaults and returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("messages: Config.SecretKey is required: the messages cookie is signed with it")
	}
	if cfg.Level == 0 {
		cfg.Level = Info
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CookieSameSite == 0 {
		cfg.CookieSameSite = http.SameSiteLaxMode
	}
	switch cfg.CookieSameSite {
	case http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default:
		return nil, fmt.Errorf("messages: invalid CookieSameSite %d", cfg.CookieSameSite)
	}
	if cfg.CookieSameSite == http.SameSiteNoneMode && !cfg.CookieSecure {
		// Browsers drop such a cookie: no message would arrive.
		return nil, errors.New("messages: CookieSameSite None needs CookieSecure: browsers refuse a SameSite=None cookie without Secure")
	}
	emptyTags, err := writesEmptyTags(cfg.DjangoVersion)
	if err != nil {
		return nil, err
	}
	return &Manager{
		cfg:        cfg,
		signer:     newSigner(cfg.SecretKey, cfg.SecretKeyFallbacks),
		emptyTags:  emptyTags,
		cookieName: CookieName,
	}, nil
}

// Config returns the configuration, defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

// writesEmptyTags reports whether the Django release version writes an
// extra_tags of "" (4.1 and later: `if obj.extra_tags is not None`) or
// leaves it out (earlier: `if obj.extra_tags`).
func writesEmptyTags(version string) (bool, error) {
	v := strings.TrimSpace(version)
	if v == "" {
		return true, nil
	}
	major, rest, _ := strings.Cut(v, ".")
	minor, _, _ := strings.Cut(rest, ".")
	maj, err1 := strconv.Atoi(major)
	mnr, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil || maj < 1 {
		return false, fmt.Errorf("messages: Config.DjangoVersion %q is not a Django release such as 5.2", version)
	}
	return maj > 4 || maj == 4 && mnr >= 1, nil
}

// ErrNoMiddleware is returned by Add on a request the messages middleware
// did not see (Django's MessageFailure).
var ErrNoMiddleware = errors.New("messages: no message storage for this request: register the messages middleware (inside the session middleware) on its route")

// Add records a message for the visitor, Django's
// messages.add_message(request, level, text): it is shown on the next page
// that reads the messages (on either site), once. ctx is the request's
// context. An empty text, or a level below Config.Level, records nothing
// and is no error, as in Django.
func Add(ctx context.Context, level Level, text string) error {
	return AddTags(ctx, level, text, "")
}

// AddTags is Add with extra tags for the page to use (Django's
// extra_tags), space-separated.
func AddTags(ctx context.Context, level Level, text, extraTags string) error {
	st := storageOf(ctx)
	if st == nil {
		return ErrNoMiddleware
	}
	st.add(Message{Level: level, Text: text, ExtraTags: extraTags})
	return nil
}

// Get returns the request's pending messages, oldest first, and marks
// them consumed: Django's iterating over get_messages(request). They are
// gone from the cookie and the session when the response is sent (and
// kept if no page asked for them). Messages added afterwards in the same
// request wait for the next page. Without the middleware Get returns nil.
func Get(ctx context.Context) []Message {
	st := storageOf(ctx)
	if st == nil {
		return nil
	}
	return st.consume()
}
