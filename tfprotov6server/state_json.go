package tfprotov6server

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// stateFromJSON reads state JSON written by any version of a schema (or mapped from
// another provider's) into the current one: attributes it lacks are null, attributes
// the schema no longer has are dropped.
func stateFromJSON(raw []byte, schema *tfprotov6.Schema) (tftypes.Value, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return tftypes.Value{}, fmt.Errorf("state is not a JSON object: %w", err)
	}
	kept := map[string]json.RawMessage{}
	for _, a := range schema.Block.Attributes {
		kept[a.Name] = orNull(fields[a.Name])
	}
	for _, b := range schema.Block.BlockTypes {
		kept[b.TypeName] = orNull(fields[b.TypeName])
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return tftypes.Value{}, err
	}
	return tftypes.ValueFromJSONWithOpts(b, schema.ValueType(), tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true})
}

func orNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}
