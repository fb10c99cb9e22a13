package testregistry

import (
	"slices"
	"strings"
)

// parseScopes turns scope parameters ("repository:team/app:pull,push"; a
// parameter may repeat or hold several scopes separated by spaces) into
// grants, keeping only the actions allowed reports true for.
func parseScopes(params []string, allowed func(action string) bool) []access {
	var grants []access
	for _, param := range params {
		for scope := range strings.FieldsSeq(param) {
			// The name sits between the first and last colon, so a
			// registry:catalog:* or a name with a port survives.
			typ, rest, ok := strings.Cut(scope, ":")
			if !ok {
				continue
			}
			i := strings.LastIndex(rest, ":")
			if i < 0 {
				continue
			}
			var actions []string
			for action := range strings.SplitSeq(rest[i+1:], ",") {
				if action != "" && allowed(action) && !slices.Contains(actions, action) {
					actions = append(actions, action)
				}
			}
			grants = append(grants, access{Type: typ, Name: rest[:i], Actions: actions})
		}
	}
	return grants
}
