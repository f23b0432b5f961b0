package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"

	"github.com/djangosessions/gosessions/models"
)

// ErrUserExists is returned by CreateUser for a username already taken.
var ErrUserExists = errors.New("auth: a user with that username already exists")

// ErrNoUser is returned by SetPassword for a username no user has.
var ErrNoUser = errors.New("auth: no user with that username")

// ErrInvalidUsername is returned for a username Django would refuse.
var ErrInvalidUsername = errors.New("auth: invalid username")

// ErrEmptyPassword is returned for an empty password: Django's
// createsuperuser and changepassword refuse one too.
var ErrEmptyPassword = errors.New("auth: the password is empty")

// maxUsername is User.username's max_length.
const maxUsername = 150

// NormalizeUsername applies NFKC normalization, as Django does to every
// username it stores (AbstractBaseUser.normalize_username) and to the
// username typed into its login form, so that "ｊｏｅ" and "joe" are one
// user on both sites.
func NormalizeUsername(username string) string {
	return norm.NFKC.String(username)
}

// ValidateUsername checks username as Django's UnicodeUsernameValidator
// and the field's max_length do: 1 to 150 characters, each a letter, a
// digit, or one of _ . @ + -.
func ValidateUsername(username string) error {
	n := utf8.RuneCountInString(username)
	if n == 0 || n > maxUsername {
		return fmt.Errorf("%w: a username has 1 to %d characters", ErrInvalidUsername, maxUsername)
	}
	for _, r := range username {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !strings.ContainsRune("_.@+-", r) {
			return fmt.Errorf("%w %q: use letters, digits and @ . + - _ only", ErrInvalidUsername, username)
		}
	}
	return nil
}

// CreateUser stores a new active user, neither staff nor superuser, with
// password hashed by MakePassword, as Django's User.objects.create_user
// does (the username normalized first). It returns the stored user. The
// hashing takes a slot of Config.MaxHashing (ErrBusy past
// Config.HashingWait).
func (a *Auth) CreateUser(ctx context.Context, username, password string) (*models.User, error) {
	username = NormalizeUsername(username)
	if err := ValidateUsername(username); err != nil {
		return nil, err
	}
	if password == "" {
		return nil, ErrEmptyPassword
	}
	encoded, err := a.makePassword(ctx, password)
	if err != nil {
		return nil, err
	}
	u := &models.User{
		Password:   encoded,
		Username:   username,
		IsActive:   true,
		DateJoined: models.DateTime{Time: a.cfg.Now()},
	}
	return u, a.cfg.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Checked first for a clear error; the unique index still
		// decides between two concurrent creations.
		var n int64
		if err := tx.Model(&models.User{}).Where("username = ?", username).Count(&n).Error; err != nil {
			return fmt.Errorf("auth: look up user %q: %w", username, err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %q", ErrUserExists, username)
		}
		if err := tx.Create(u).Error; err != nil {
			return fmt.Errorf("auth: create user %q: %w", username, err)
		}
		return nil
	})
}

// SetPassword gives the user named username a new password (Django's
// set_password() and save()). The password hash changes, so the session
// auth hash of every session of that user changes too: each is logged out
// at its next request, on the Go site and on the Django site alike. The
// hashing takes a slot of Config.MaxHashing (ErrBusy past
// Config.HashingWait).
func (a *Auth) SetPassword(ctx context.Context, username, password string) error {
	if password == "" {
		return ErrEmptyPassword
	}
	encoded, err := a.makePassword(ctx, password)
	if err != nil {
		return err
	}
	username = NormalizeUsername(username)
	res := a.cfg.DB.WithContext(ctx).Model(&models.User{}).Where("username = ?", username).Update("password", encoded)
	if res.Error != nil {
		return fmt.Errorf("auth: set the password of %q: %w", username, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: %q", ErrNoUser, username)
	}
	return nil
}

// makePassword is MakePassword with Config.Iterations, within the bound
// of the password hashing (Config.MaxHashing).
func (a *Auth) makePassword(ctx context.Context, password string) (string, error) {
	var encoded string
	var err error
	if herr := a.hashing.do(ctx, func() { encoded, err = MakePassword(password, a.cfg.Iterations) }); herr != nil {
		return "", herr
	}
	return encoded, err
}
