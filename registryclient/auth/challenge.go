package auth

import "strings"

// Challenge is one parsed WWW-Authenticate challenge.
type Challenge struct {
	// Scheme is lowercased: "basic", "bearer".
	Scheme string
	// Params holds the auth-params with lowercased keys; values are unquoted.
	Params map[string]string
}

// ParseChallenges parses a WWW-Authenticate header value (RFC 7235): several challenges
// separated by commas, quoted strings that contain commas or escaped quotes, and odd
// spacing. A token68 (as in "Negotiate abc==") is skipped. Registries that write
// unquoted URLs (realm=https://...) are tolerated.
func ParseChallenges(header string) []Challenge {
	p := challengeParser{s: header}
	var out []Challenge
	for {
		p.skip(", \t")
		if p.pos >= len(p.s) {
			return out
		}
		scheme := p.token()
		if scheme == "" {
			p.skipPast(',')
			continue
		}
		c := Challenge{Scheme: strings.ToLower(scheme), Params: map[string]string{}}
		p.params(c.Params)
		out = append(out, c)
	}
}

type challengeParser struct {
	s   string
	pos int
}

// params reads the auth-params after a scheme, stopping at the start of the next
// challenge: a token that is not followed by "=".
func (p *challengeParser) params(into map[string]string) {
	p.skip(" \t")
	if p.token68() {
		return
	}
	for {
		start := p.pos
		p.skip(", \t")
		name := p.token()
		p.skip(" \t")
		if name == "" || p.pos >= len(p.s) || p.s[p.pos] != '=' {
			p.pos = start
			return
		}
		p.pos++
		p.skip(" \t")
		value := p.value()
		key := strings.ToLower(name)
		if _, seen := into[key]; !seen {
			into[key] = value
		}
	}
}

// token68 consumes a token68 credential if one is next: token68 characters, optional
// trailing "=", then the end of the challenge.
func (p *challengeParser) token68() bool {
	i := p.pos
	for i < len(p.s) && isToken68Char(p.s[i]) {
		i++
	}
	if i == p.pos {
		return false
	}
	for i < len(p.s) && p.s[i] == '=' {
		i++
	}
	end := i
	for end < len(p.s) && (p.s[end] == ' ' || p.s[end] == '\t') {
		end++
	}
	if end < len(p.s) && p.s[end] != ',' {
		return false
	}
	p.pos = i
	return true
}

func (p *challengeParser) value() string {
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		return p.quoted()
	}
	start := p.pos
	for p.pos < len(p.s) && !strings.ContainsRune(", \t", rune(p.s[p.pos])) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// quoted reads a quoted-string; an unterminated one runs to the end of the header.
func (p *challengeParser) quoted() string {
	var b strings.Builder
	for p.pos++; p.pos < len(p.s); p.pos++ {
		switch c := p.s[p.pos]; {
		case c == '"':
			p.pos++
			return b.String()
		case c == '\\' && p.pos+1 < len(p.s):
			p.pos++
			b.WriteByte(p.s[p.pos])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (p *challengeParser) token() string {
	start := p.pos
	for p.pos < len(p.s) && isTokenChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *challengeParser) skip(chars string) {
	for p.pos < len(p.s) && strings.IndexByte(chars, p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *challengeParser) skipPast(c byte) {
	if i := strings.IndexByte(p.s[p.pos:], c); i >= 0 {
		p.pos += i + 1
		return
	}
	p.pos = len(p.s)
}

func isTokenChar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	return isAlnum(c) || strings.IndexByte("-._~+/", c) >= 0
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
