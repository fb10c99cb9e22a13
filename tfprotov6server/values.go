package tfprotov6server

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// This file is the one place where Terraform's wire values become Go values and back.

// decode unmarshals a DynamicValue into an object of the schema's type. A nil value
// (Terraform sends none for a missing prior state) decodes to a null object.
func decode(dv *tfprotov6.DynamicValue, schema *tfprotov6.Schema) (tftypes.Value, error) {
	typ := schema.ValueType()
	if dv == nil {
		return tftypes.NewValue(typ, nil), nil
	}
	v, err := dv.Unmarshal(typ)
	if err != nil {
		return tftypes.Value{}, fmt.Errorf("decode value: %w", err)
	}
	return v, nil
}

// encode marshals an object of the schema's type for Terraform.
func encode(v tftypes.Value, schema *tfprotov6.Schema) (*tfprotov6.DynamicValue, error) {
	dv, err := tfprotov6.NewDynamicValue(schema.ValueType(), v)
	if err != nil {
		return nil, fmt.Errorf("encode value: %w", err)
	}
	return &dv, nil
}

// attributes splits a known, non-null object into its attributes.
func attributes(v tftypes.Value) (map[string]tftypes.Value, error) {
	attrs := map[string]tftypes.Value{}
	if v.IsNull() || !v.IsKnown() {
		return attrs, nil
	}
	if err := v.As(&attrs); err != nil {
		return nil, fmt.Errorf("read object: %w", err)
	}
	return attrs, nil
}

// stringValue is a string attribute as Terraform sees it: known, null or unknown.
type stringValue struct {
	Value   string
	Null    bool
	Unknown bool
}

func knownString(s string) stringValue { return stringValue{Value: s} }

var (
	nullString    = stringValue{Null: true}
	unknownString = stringValue{Unknown: true}
)

func asString(v tftypes.Value) (stringValue, error) {
	switch {
	case !v.IsKnown():
		return unknownString, nil
	case v.IsNull():
		return nullString, nil
	}
	var s string
	if err := v.As(&s); err != nil {
		return stringValue{}, err
	}
	return knownString(s), nil
}

// known reports whether the value is known and not null.
func (s stringValue) known() bool { return !s.Null && !s.Unknown }

func (s stringValue) tf() tftypes.Value {
	switch {
	case s.Unknown:
		return tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	case s.Null:
		return tftypes.NewValue(tftypes.String, nil)
	}
	return tftypes.NewValue(tftypes.String, s.Value)
}

// intValue is a number attribute that must be a whole number.
type intValue struct {
	Value   int64
	Null    bool
	Unknown bool
}

func asInt(v tftypes.Value) (intValue, error) {
	switch {
	case !v.IsKnown():
		return intValue{Unknown: true}, nil
	case v.IsNull():
		return intValue{Null: true}, nil
	}
	var f big.Float
	if err := v.As(&f); err != nil {
		return intValue{}, err
	}
	i, acc := f.Int64()
	if acc != big.Exact {
		return intValue{}, fmt.Errorf("%s is not a whole number", f.String())
	}
	return intValue{Value: i}, nil
}

// boolValue is a bool attribute.
type boolValue struct {
	Value   bool
	Null    bool
	Unknown bool
}

func asBool(v tftypes.Value) (boolValue, error) {
	switch {
	case !v.IsKnown():
		return boolValue{Unknown: true}, nil
	case v.IsNull():
		return boolValue{Null: true}, nil
	}
	var b bool
	if err := v.As(&b); err != nil {
		return boolValue{}, err
	}
	return boolValue{Value: b}, nil
}

// asStrings reads a list of strings; unknown elements are reported as unknown.
func asStrings(v tftypes.Value) (values []string, unknown bool, err error) {
	if !v.IsKnown() {
		return nil, true, nil
	}
	if v.IsNull() {
		return nil, false, nil
	}
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return nil, false, err
	}
	for _, e := range elems {
		s, err := asString(e)
		if err != nil {
			return nil, false, err
		}
		if s.Unknown {
			return nil, true, nil
		}
		if s.known() {
			values = append(values, s.Value)
		}
	}
	return values, false, nil
}

// asObjects reads a list of nested blocks into their attributes.
func asObjects(v tftypes.Value) ([]map[string]tftypes.Value, error) {
	if !v.IsKnown() || v.IsNull() {
		return nil, nil
	}
	var elems []tftypes.Value
	if err := v.As(&elems); err != nil {
		return nil, err
	}
	out := make([]map[string]tftypes.Value, 0, len(elems))
	for _, e := range elems {
		attrs, err := attributes(e)
		if err != nil {
			return nil, err
		}
		out = append(out, attrs)
	}
	return out, nil
}

func (i intValue) known() bool { return !i.Null && !i.Unknown }

func (b boolValue) tf() tftypes.Value {
	switch {
	case b.Unknown:
		return tftypes.NewValue(tftypes.Bool, tftypes.UnknownValue)
	case b.Null:
		return tftypes.NewValue(tftypes.Bool, nil)
	}
	return tftypes.NewValue(tftypes.Bool, b.Value)
}
