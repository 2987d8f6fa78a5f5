package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A tiny recursive-descent parser for the expression inside {{ }}:
//
//	expr    := primary { "|" filter }
//	primary := "env" "." IDENT | "env" "[" STRING "]" | IDENT | literal | "(" expr ")"
//	filter  := ("default" | "d") [ "(" expr [ "," expr ] ")" ]

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokPunct
)

type token struct {
	kind tokKind
	text string // identifier, punctuation, number text, or decoded string
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '_' || isLetter(c):
			j := i + 1
			for j < len(s) && (s[j] == '_' || isLetter(s[j]) || isDigit(s[j])) {
				j++
			}
			toks = append(toks, token{tokIdent, s[i:j]})
			i = j
		case isDigit(c) || (c == '-' && i+1 < len(s) && isDigit(s[i+1])):
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || strings.IndexByte("._eE+-", s[j]) >= 0) {
				if (s[j] == '+' || s[j] == '-') && s[j-1] != 'e' && s[j-1] != 'E' {
					break
				}
				j++
			}
			toks = append(toks, token{tokNumber, s[i:j]})
			i = j
		case c == '\'' || c == '"':
			str, n, err := unquote(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, str})
			i += n
		case strings.IndexByte(".[]()|,", c) >= 0:
			toks = append(toks, token{tokPunct, string(c)})
			i++
		default:
			return nil, fmt.Errorf("unsupported character %q in template expression", c)
		}
	}
	return append(toks, token{kind: tokEOF}), nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// unquote decodes a Python string literal at the start of s and returns its
// length in s.
func unquote(s string) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == q {
			return b.String(), i + 1, nil
		}
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\', '\'', '"':
			b.WriteByte(e)
		default: // Python keeps unknown escapes verbatim
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", 0, errors.New("unterminated string literal")
}

type exprParser struct {
	toks []token
	pos  int
	env  EnvLookup
}

func evalExpr(body string, env EnvLookup) (tmplValue, error) {
	toks, err := tokenize(body)
	if err != nil {
		return tmplValue{}, err
	}
	p := &exprParser{toks: toks, env: env}
	if p.peek().kind == tokEOF {
		return tmplValue{}, errors.New("empty expression")
	}
	v, err := p.expr(0)
	if err != nil {
		return tmplValue{}, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return tmplValue{}, fmt.Errorf("unexpected %q", t.text)
	}
	return v, nil
}

func (p *exprParser) peek() token { return p.toks[p.pos] }
func (p *exprParser) next() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *exprParser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}

func (p *exprParser) expect(s string) error {
	if !p.isPunct(s) {
		return fmt.Errorf("expected %q, found %q", s, p.peek().text)
	}
	p.pos++
	return nil
}

// maxExprDepth bounds nesting of default(...) and parentheses.
const maxExprDepth = 32

func (p *exprParser) expr(depth int) (tmplValue, error) {
	if depth > maxExprDepth {
		return tmplValue{}, errors.New("expression nested too deeply")
	}
	v, err := p.primary(depth)
	if err != nil {
		return v, err
	}
	for p.isPunct("|") {
		p.pos++
		if v, err = p.filter(v, depth); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (p *exprParser) primary(depth int) (tmplValue, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return tmplValue{kind: kindString, s: t.text}, nil
	case tokNumber:
		return parseNumber(t.text)
	case tokPunct:
		if t.text == "(" {
			v, err := p.expr(depth + 1)
			if err != nil {
				return v, err
			}
			return v, p.expect(")")
		}
		return tmplValue{}, fmt.Errorf("unexpected %q", t.text)
	case tokIdent:
		switch t.text {
		case "true", "True":
			return tmplValue{kind: kindBool, b: true}, nil
		case "false", "False":
			return tmplValue{kind: kindBool}, nil
		case "none", "None":
			return tmplValue{kind: kindNone}, nil
		case "env":
			return p.envRef()
		}
		// Any other name is undefined in upstream's context: it prints as
		// "" (the gateway's webhook templates rely on this), but it cannot
		// be dereferenced.
		if p.isPunct(".") || p.isPunct("[") {
			return tmplValue{}, fmt.Errorf("%q is undefined", t.text)
		}
		return tmplValue{kind: kindUndefined}, nil
	}
	return tmplValue{}, errors.New("unexpected end of expression")
}

// envRef parses .NAME or ['NAME'] after env; an unset variable is undefined.
func (p *exprParser) envRef() (tmplValue, error) {
	var name string
	switch {
	case p.isPunct("."):
		p.pos++
		t := p.next()
		if t.kind != tokIdent {
			return tmplValue{}, fmt.Errorf("expected a variable name after env., found %q", t.text)
		}
		name = t.text
	case p.isPunct("["):
		p.pos++
		t := p.next()
		if t.kind != tokString {
			return tmplValue{}, fmt.Errorf("expected a quoted variable name in env[...], found %q", t.text)
		}
		name = t.text
		if err := p.expect("]"); err != nil {
			return tmplValue{}, err
		}
	default:
		return tmplValue{}, errors.New("env must be indexed: env.NAME or env['NAME']")
	}
	if p.isPunct(".") || p.isPunct("[") {
		return tmplValue{}, fmt.Errorf("attribute access on env.%s is not supported", name)
	}
	if v, ok := p.env(name); ok {
		return tmplValue{kind: kindString, s: v}, nil
	}
	return tmplValue{kind: kindUndefined}, nil
}

func (p *exprParser) filter(v tmplValue, depth int) (tmplValue, error) {
	t := p.next()
	if t.kind != tokIdent || (t.text != "default" && t.text != "d") {
		return v, fmt.Errorf("filter %q is not supported (only default)", t.text)
	}
	fallback, boolean := tmplValue{kind: kindString}, false
	if p.isPunct("(") {
		p.pos++
		var err error
		if fallback, err = p.expr(depth + 1); err != nil {
			return v, err
		}
		if p.isPunct(",") {
			p.pos++
			flag, err := p.expr(depth + 1)
			if err != nil {
				return v, err
			}
			boolean = flag.truthy()
		}
		if err := p.expect(")"); err != nil {
			return v, err
		}
	}
	if v.kind == kindUndefined || (boolean && !v.truthy()) {
		return fallback, nil
	}
	return v, nil
}

func parseNumber(text string) (tmplValue, error) {
	clean := strings.ReplaceAll(text, "_", "")
	if i, err := strconv.ParseInt(clean, 10, 64); err == nil {
		return tmplValue{kind: kindNumber, n: float64(i), isInt: true, s: strconv.FormatInt(i, 10)}, nil
	}
	if f, err := strconv.ParseFloat(clean, 64); err == nil && !strings.ContainsAny(clean, "xXpP") {
		return tmplValue{kind: kindNumber, n: f}, nil
	}
	return tmplValue{}, fmt.Errorf("invalid number %q", text)
}
