package tfprotov6server

import (
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// diagnostics collects what the provider tells the user about one RPC.
type diagnostics []*tfprotov6.Diagnostic

// errorf adds an error, attached to an attribute when attr names one.
func (d *diagnostics) add(severity tfprotov6.DiagnosticSeverity, attr string, summary, detail string) {
	diag := &tfprotov6.Diagnostic{Severity: severity, Summary: summary, Detail: detail}
	if attr != "" {
		diag.Attribute = tftypes.NewAttributePath().WithAttributeName(attr)
	}
	*d = append(*d, diag)
}

// attrError adds an error about the attribute attr.
func (d *diagnostics) attrError(attr, summary, detail string) {
	d.add(tfprotov6.DiagnosticSeverityError, attr, summary, detail)
}

// pathError adds an error about the value at path, such as registry_auth[1].address.
func (d *diagnostics) pathError(path *tftypes.AttributePath, summary, detail string) {
	*d = append(*d, &tfprotov6.Diagnostic{Severity: tfprotov6.DiagnosticSeverityError, Summary: summary, Detail: detail, Attribute: path})
}

// error adds an error that is about no single attribute.
func (d *diagnostics) error(summary, detail string) {
	d.add(tfprotov6.DiagnosticSeverityError, "", summary, detail)
}

// bug adds an error for something that only a provider bug can cause.
func (d *diagnostics) bug(err error) {
	d.error("imagesync provider bug", err.Error()+"\n\nPlease report this to the provider's maintainers.")
}

func (d diagnostics) hasError() bool {
	for _, diag := range d {
		if diag.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}
