package registryclient

import (
	"net/http"
	"strings"
)

// link is one entry of a Link header (RFC 8288, formerly RFC 5988): a target URI
// reference and its parameters, whose names are lowercased.
type link struct {
	target string
	params map[string]string
}

// nextLink returns the target of the rel="next" link in h, or "" when there is none.
// Registries page tag lists with it; the target may be relative to the request URL.
func nextLink(h http.Header) string {
	for _, value := range h.Values("Link") {
		for _, l := range parseLinks(value) {
			for _, rel := range strings.Fields(l.params["rel"]) {
				if strings.EqualFold(rel, "next") {
					return l.target
				}
			}
		}
	}
	return ""
}

// parseLinks reads a Link header value:
//
//	<uri-reference> *( ";" name [ "=" ( token / quoted-string ) ] ) *( "," ... )
//
// Registries do not always follow the grammar to the letter (unquoted rel values,
// stray spaces), so it reads what it can: an entry it cannot make sense of is
// skipped up to the next comma outside quotes and angle brackets, never an error.
func parseLinks(value string) []link {
	var links []link
	s := value
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return links
		}
		if s[0] != '<' {
			s = skipEntry(s)
			continue
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return links
		}
		l := link{target: s[1:end], params: map[string]string{}}
		s = readParams(s[end+1:], l.params)
		links = append(links, l)
		s = skipEntry(s)
	}
}

// readParams reads `; name=value` pairs into params and returns the rest of s. The
// first occurrence of a name wins, as RFC 8288 says for rel.
func readParams(s string, params map[string]string) string {
	for {
		s = trimSpace(s)
		if !strings.HasPrefix(s, ";") {
			return s
		}
		name, rest := readToken(trimSpace(s[1:]))
		if name == "" {
			return rest
		}
		s = trimSpace(rest)
		value := ""
		if strings.HasPrefix(s, "=") {
			s = trimSpace(s[1:])
			if strings.HasPrefix(s, `"`) {
				value, s = readQuoted(s)
			} else {
				value, s = readToken(s)
			}
		}
		name = strings.ToLower(name)
		if _, seen := params[name]; !seen {
			params[name] = value
		}
	}
}

// readToken reads an RFC 9110 token from the start of s.
func readToken(s string) (token, rest string) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// readQuoted reads a quoted-string (s starts with its opening quote), undoing
// backslash escapes; an unterminated one runs to the end of s.
func readQuoted(s string) (value, rest string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// skipEntry drops everything up to and including the next comma that is outside a
// quoted string and outside <...>.
func skipEntry(s string) string {
	inQuotes, inTarget := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuotes && c == '\\':
			i++
		case inQuotes:
			inQuotes = c != '"'
		case inTarget:
			inTarget = c != '>'
		case c == '"':
			inQuotes = true
		case c == '<':
			inTarget = true
		case c == ',':
			return s[i+1:]
		}
	}
	return ""
}

func trimSpace(s string) string { return strings.TrimLeft(s, " \t") }
