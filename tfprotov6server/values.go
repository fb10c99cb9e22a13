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

// value is an attribute as Terraform sees it: known, null or unknown.
type value[T string | bool | int64] struct {
	Value   T
	Null    bool
	Unknown bool
}

// The attribute kinds the schemas use.
type (
	stringValue = value[string]
	boolValue   = value[bool]
	intValue    = value[int64] // a number that must be whole
)

func knownString(s string) stringValue { return stringValue{Value: s} }

var (
	nullString    = stringValue{Null: true}
	unknownString = stringValue{Unknown: true}
)

// known reports whether the value is known and not null.
func (v value[T]) known() bool { return !v.Null && !v.Unknown }

// tf is the value as Terraform sends it.
func (v value[T]) tf() tftypes.Value {
	var typ tftypes.Type = tftypes.String
	var raw any = v.Value
	switch x := any(v.Value).(type) {
	case bool:
		typ = tftypes.Bool
	case int64:
		typ, raw = tftypes.Number, new(big.Float).SetInt64(x)
	}
	switch {
	case v.Unknown:
		return tftypes.NewValue(typ, tftypes.UnknownValue)
	case v.Null:
		return tftypes.NewValue(typ, nil)
	}
	return tftypes.NewValue(typ, raw)
}

// readValue reads a known, null or unknown value; as converts a known one.
func readValue[T string | bool | int64](v tftypes.Value, as func(tftypes.Value) (T, error)) (value[T], error) {
	switch {
	case !v.IsKnown():
		return value[T]{Unknown: true}, nil
	case v.IsNull():
		return value[T]{Null: true}, nil
	}
	x, err := as(v)
	if err != nil {
		return value[T]{}, err
	}
	return value[T]{Value: x}, nil
}

func asString(v tftypes.Value) (stringValue, error) {
	return readValue(v, func(v tftypes.Value) (s string, err error) { return s, v.As(&s) })
}

func asBool(v tftypes.Value) (boolValue, error) {
	return readValue(v, func(v tftypes.Value) (b bool, err error) { return b, v.As(&b) })
}

func asInt(v tftypes.Value) (intValue, error) {
	return readValue(v, func(v tftypes.Value) (int64, error) {
		var f big.Float
		if err := v.As(&f); err != nil {
			return 0, err
		}
		i, acc := f.Int64()
		if acc != big.Exact {
			return 0, fmt.Errorf("%s is not a whole number", f.String())
		}
		return i, nil
	})
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

// The collection attributes: lists and maps of strings, known, null or unknown as a whole.

var (
	stringListType = tftypes.List{ElementType: tftypes.String}
	stringMap      = tftypes.Map{ElementType: tftypes.String}
)

// stringList is a list of strings as Terraform sees it.
type stringList struct {
	Values        []string
	Null, Unknown bool
}

func asStringList(v tftypes.Value) (stringList, error) {
	switch {
	case !v.IsKnown():
		return stringList{Unknown: true}, nil
	case v.IsNull():
		return stringList{Null: true}, nil
	}
	values, unknown, err := asStrings(v)
	return stringList{Values: values, Unknown: unknown}, err
}

func (l stringList) tf() tftypes.Value {
	switch {
	case l.Unknown:
		return tftypes.NewValue(stringListType, tftypes.UnknownValue)
	case l.Null:
		return tftypes.NewValue(stringListType, nil)
	}
	elems := make([]tftypes.Value, 0, len(l.Values))
	for _, s := range l.Values {
		elems = append(elems, tftypes.NewValue(tftypes.String, s))
	}
	return tftypes.NewValue(stringListType, elems)
}

// mapValue is a map of strings as Terraform sees it.
type mapValue struct {
	Values        map[string]string
	Null, Unknown bool
}

func asMap(v tftypes.Value) (mapValue, error) {
	switch {
	case !v.IsKnown():
		return mapValue{Unknown: true}, nil
	case v.IsNull():
		return mapValue{Null: true}, nil
	}
	var elems map[string]tftypes.Value
	if err := v.As(&elems); err != nil {
		return mapValue{}, err
	}
	m := mapValue{Values: map[string]string{}}
	for k, e := range elems {
		s, err := asString(e)
		if err != nil {
			return mapValue{}, err
		}
		if s.Unknown {
			return mapValue{Unknown: true}, nil
		}
		m.Values[k] = s.Value
	}
	return m, nil
}

func (m mapValue) tf() tftypes.Value {
	switch {
	case m.Unknown:
		return tftypes.NewValue(stringMap, tftypes.UnknownValue)
	case m.Null:
		return tftypes.NewValue(stringMap, nil)
	}
	elems := map[string]tftypes.Value{}
	for k, v := range m.Values {
		elems[k] = tftypes.NewValue(tftypes.String, v)
	}
	return tftypes.NewValue(stringMap, elems)
}

func (m mapValue) known() bool { return !m.Null && !m.Unknown }
