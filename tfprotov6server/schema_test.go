package tfprotov6server

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// The registry docs are generated from these descriptions: an empty one is a blank
// line in the documentation.
func TestEverythingTheProviderOffersIsDescribed(t *testing.T) {
	resp, err := newServer("test").GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(where string, b *tfprotov6.SchemaBlock)
	walk = func(where string, b *tfprotov6.SchemaBlock) {
		if b.Description == "" {
			t.Errorf("%s has no description", where)
		}
		for _, a := range b.Attributes {
			if a.Description == "" {
				t.Errorf("%s.%s has no description", where, a.Name)
			}
		}
		for _, nb := range b.BlockTypes {
			walk(where+"."+nb.TypeName, nb.Block)
		}
	}
	walk("provider", resp.Provider.Block)
	for name, s := range resp.ResourceSchemas {
		walk("resource "+name, s.Block)
	}
	for name, s := range resp.DataSourceSchemas {
		walk("data source "+name, s.Block)
	}
	for name, f := range resp.Functions {
		if f.Summary == "" || f.Description == "" {
			t.Errorf("function %s lacks a summary or description", name)
		}
		for _, p := range f.Parameters {
			if p.Description == "" {
				t.Errorf("function %s: parameter %s has no description", name, p.Name)
			}
		}
	}
	if len(resp.DataSourceSchemas) != 2 || len(resp.Functions) != 2 {
		t.Errorf("%d data sources and %d functions advertised, want 2 and 2", len(resp.DataSourceSchemas), len(resp.Functions))
	}
}
