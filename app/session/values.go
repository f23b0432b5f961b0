package session

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// normalize turns a Go value into the form it takes after a JSON round
// trip (json.Number for numbers, map[string]any, []any, string, bool, nil),
// so that a value reads back the same before and after it is stored.
// Floats keep a fraction or exponent in their JSON form (1.0, not 1), so
// Python reads them back as floats; that holds inside maps, slices and
// arrays too, but not inside structs or values with their own MarshalJSON,
// which go through encoding/json as they are.
//
// It refuses what JSON would silently lose: a struct with unexported
// fields (encoding/json skips them, so a struct of only unexported fields
// would be stored as {}), and values nested deeper than MaxDepth.
func normalize(v any) (any, error) {
	out, err := normalizeAt(v, 0)
	if err != nil {
		return nil, err
	}
	if deeper(out, MaxDepth) {
		return nil, fmt.Errorf("value nested deeper than %d levels", MaxDepth)
	}
	return out, nil
}

// MaxDepth is how deeply a stored value may nest lists and objects. It is
// far below what Django's JSON decoder reads back (about 1000, Python's
// recursion limit), and a session never needs more.
const MaxDepth = 100

// deeper reports whether v nests lists and objects more than max deep.
func deeper(v any, max int) bool {
	switch x := v.(type) {
	case map[string]any:
		if max == 0 {
			return true
		}
		for _, e := range x {
			if deeper(e, max-1) {
				return true
			}
		}
	case []any:
		if max == 0 {
			return true
		}
		for _, e := range x {
			if deeper(e, max-1) {
				return true
			}
		}
	}
	return false
}

func normalizeAt(v any, depth int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels (cyclic?)", MaxDepth)
	}
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case json.Number:
		if !validNumber(string(x)) {
			return nil, fmt.Errorf("invalid json.Number %q", string(x))
		}
		return x, nil
	case int:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case int8:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case int16:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case uint:
		return json.Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint8:
		return json.Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint16:
		return json.Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint32:
		return json.Number(strconv.FormatUint(uint64(x), 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case float32:
		return floatNumber(float64(x))
	case float64:
		return floatNumber(x)
	case time.Time:
		return isoformat(x), nil
	case json.Marshaler, encoding.TextMarshaler:
		// The value chose its own JSON form.
	default:
		if out, ok, err := normalizeContainer(reflect.ValueOf(v), depth); ok {
			return out, err
		}
		if err := lossless(reflect.TypeOf(v), map[reflect.Type]bool{}); err != nil {
			return nil, err
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// normalizeContainer normalizes each element of a map with string keys, a
// slice (but not []byte, which JSON writes as base64) or an array, and
// follows pointers; ok is false for any other kind.
func normalizeContainer(rv reflect.Value, depth int) (out any, ok bool, err error) {
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, true, nil
		}
		out, err = normalizeAt(rv.Elem().Interface(), depth+1)
		return out, true, err
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false, nil
		}
		if rv.IsNil() {
			return nil, true, nil
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			e, err := normalizeAt(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, true, err
			}
			m[it.Key().String()] = e
		}
		return m, true, nil
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false, nil
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, true, nil
		}
		l := make([]any, rv.Len())
		for i := range l {
			e, err := normalizeAt(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, true, err
			}
			l[i] = e
		}
		return l, true, nil
	}
	return nil, false, nil
}

func floatNumber(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("unsupported float %v: JSON has no NaN or Infinity", f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return json.Number(s), nil
}

func validNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return false
	}
	return json.Valid([]byte(s))
}

// asInt64 reads an integral JSON number.
func asInt64(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// isoformat writes t as Python's datetime.isoformat() does for an aware
// UTC datetime: microseconds only when non-zero, "+00:00" offset.
func isoformat(t time.Time) string {
	t = t.UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05-07:00")
	}
	return t.Format("2006-01-02T15:04:05.000000-07:00")
}

// parseISO reads what Python's datetime.fromisoformat accepts in practice:
// "T" or space separator, optional fraction, optional offset or Z. A naive
// value is taken as UTC (Django with USE_TZ=True never writes one).
func parseISO(s string) (time.Time, bool) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, layout := range [...]string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// lossless returns an error when encoding/json would silently drop part
// of a value of type t: an unexported struct field (or an embedded one of
// a type that is not a struct), anywhere in the type. Types with their own
// MarshalJSON or MarshalText choose their JSON form and pass. seen guards
// against recursive types.
func lossless(t reflect.Type, seen map[reflect.Type]bool) error {
	if t == nil || seen[t] {
		return nil
	}
	seen[t] = true
	// Only a method of the type itself: encoding/json calls one declared
	// on the pointer only for addressable values, which a stored value is
	// not.
	if t.Implements(jsonMarshaler) || t.Implements(textMarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return lossless(t.Elem(), seen)
	case reflect.Map:
		return lossless(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Name == "_" || f.Tag.Get("json") == "-" {
				continue
			}
			ft := f.Type
			if f.Anonymous && ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if !f.IsExported() && !(f.Anonymous && ft.Kind() == reflect.Struct) {
				return fmt.Errorf("%s has the unexported field %s, which JSON would drop: export it (with a json tag), or give %s a MarshalJSON method (with a value receiver)", t, f.Name, t)
			}
			if err := lossless(f.Type, seen); err != nil {
				return err
			}
		}
	}
	return nil
}
