package tfprotov6server

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// validateTimeouts checks the timeouts block: each value a positive Go duration.
func validateTimeouts(t timeouts) diagnostics {
	var diags diagnostics
	if t.Null {
		return nil
	}
	for name, v := range t.fields() {
		if !v.known() {
			continue
		}
		if d, err := time.ParseDuration(v.Value); err != nil || d <= 0 {
			diags = append(diags, &tfprotov6.Diagnostic{
				Severity:  tfprotov6.DiagnosticSeverityError,
				Summary:   "Invalid timeout",
				Detail:    fmt.Sprintf("timeouts.%s = %q is not a positive duration: write it as a number and a unit, for example \"30m\" or \"2h\".", name, v.Value),
				Attribute: tftypes.NewAttributePath().WithAttributeName("timeouts").WithAttributeName(name),
			})
		}
	}
	return diags
}

// timeout is how long the operation (create, update or delete) may take.
func (t timeouts) timeout(op string) time.Duration {
	d, _ := time.ParseDuration(defaultTimeout)
	if t.Null {
		return d
	}
	if v := t.fields()[op]; v.known() {
		if parsed, err := time.ParseDuration(v.Value); err == nil && parsed > 0 {
			return parsed
		}
	}
	return d
}
