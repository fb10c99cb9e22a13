package auth

import (
	"maps"
	"slices"
	"strings"
)

// Scope is one repository permission a request needs, e.g.
// repository:library/alpine:pull,push.
type Scope struct {
	// Repository is the repository name without the registry, e.g. library/alpine.
	Repository string
	// Actions are what the request does there: pull, push, delete.
	Actions []string
}

// String formats s as a token endpoint's scope parameter expects it.
func (s Scope) String() string {
	return "repository:" + s.Repository + ":" + strings.Join(s.Actions, ",")
}

// scopeSet maps a resource ("repository:library/alpine", "registry:catalog") to the
// actions wanted on it. Its canonical form makes a token cache key that does not depend
// on the order in which a caller listed scopes or actions.
type scopeSet map[string]map[string]bool

func newScopeSet(scopes []Scope) scopeSet {
	set := scopeSet{}
	for _, s := range scopes {
		set.add("repository:"+s.Repository, s.Actions)
	}
	return set
}

// withChallenge returns s plus the scopes a registry named in a challenge's scope
// parameter: a space-separated list of "type:name:action,action".
func (s scopeSet) withChallenge(param string) scopeSet {
	merged := scopeSet{}
	for resource, actions := range s {
		merged.add(resource, slices.Collect(maps.Keys(actions)))
	}
	for _, scope := range strings.Fields(param) {
		i := strings.LastIndexByte(scope, ':')
		if i <= 0 {
			continue
		}
		merged.add(scope[:i], strings.Split(scope[i+1:], ","))
	}
	return merged
}

func (s scopeSet) add(resource string, actions []string) {
	if s[resource] == nil {
		s[resource] = map[string]bool{}
	}
	for _, a := range actions {
		if a != "" {
			s[resource][a] = true
		}
	}
}

// list returns the scopes in canonical form, sorted.
func (s scopeSet) list() []string {
	out := make([]string, 0, len(s))
	for resource, actions := range s {
		out = append(out, resource+":"+strings.Join(slices.Sorted(maps.Keys(actions)), ","))
	}
	slices.Sort(out)
	return out
}

func (s scopeSet) key() string { return strings.Join(s.list(), " ") }
