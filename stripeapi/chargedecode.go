package stripeapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	stripe "github.com/stripe/stripe-go/v76"
)

// A file's charge objects are read by a decoder that checks every member of
// an object against stripe.Charge's types, as encoding/json would, but fills
// in only the fields chargeFromStripe reads: decoding each object into the
// whole stripe.Charge (a few hundred fields and structs) was most of an
// import's CPU time. Its schema is read from stripe-go's types by reflection,
// so stripe-go stays the source of truth. It answers only when it is sure
// encoding/json would accept the object as it does; anything else (a type
// encoding/json would refuse, a key that matches a field only without regard
// to case, a member given twice, escapes in keys, deep nesting) it leaves to
// encoding/json, which then decodes the object or says what is wrong with it.

// schemaKind is what JSON a Go type accepts.
type schemaKind uint8

const (
	schemaUnsupported schemaKind = iota // left to encoding/json whenever present
	schemaAny
	schemaString
	schemaBool
	schemaInt
	schemaUint
	schemaFloat
	schemaStruct
	schemaMap   // with string keys
	schemaSlice // not of bytes
	// schemaCustom is a pointer to a type with its own UnmarshalJSON (a
	// stripe-go expandable object: an id or the object): decoded by
	// encoding/json.
	schemaCustom
)

type schemaNode struct {
	kind schemaKind
	bits int          // of numbers
	typ  reflect.Type // schemaCustom: the type it points to
	// idString is whether a JSON string decodes into typ as its ID, as
	// stripe-go's expandable objects do (stripe.ParseID: the text between
	// the quotes, escapes and all).
	idString bool
	fields   map[string]schemaField // schemaStruct
	folded   map[string]bool        // schemaStruct: the fields' names, lower-cased
	elem     *schemaNode            // schemaMap, schemaSlice
}

// schemaField is a field of a struct: its number, to tell a member given
// twice, and its schema.
type schemaField struct {
	number int
	node   *schemaNode
}

// maxSchemaFields bounds the fields of a struct the decoder checks itself
// (the bits of fieldSet).
const maxSchemaFields = 256

type fieldSet [maxSchemaFields / 64]uint64

// add adds field number i; false when it was there.
func (f *fieldSet) add(i int) bool {
	bit := uint64(1) << (i % 64)
	had := f[i/64]&bit != 0
	f[i/64] |= bit
	return !had
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// chargeSchema is the schema of stripe.Charge decoded as a plain struct (see
// decodeCharge).
var chargeSchema = sync.OnceValue(func() *schemaNode {
	return buildSchema(reflect.TypeFor[plainCharge](), map[reflect.Type]*schemaNode{})
})

func buildSchema(t reflect.Type, seen map[reflect.Type]*schemaNode) *schemaNode {
	if t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) && !t.Elem().Implements(unmarshalerType) {
			return &schemaNode{kind: schemaCustom, typ: t.Elem(), idString: decodesIDString(t.Elem())}
		}
		if t.Implements(textUnmarshalerType) {
			return &schemaNode{}
		}
		return buildSchema(t.Elem(), seen)
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return &schemaNode{} // a value (not a pointer) with its own decoding
	}
	if n := seen[t]; n != nil {
		return n
	}
	n := &schemaNode{}
	seen[t] = n
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			n.kind = schemaAny
		}
	case reflect.String:
		n.kind = schemaString
	case reflect.Bool:
		n.kind = schemaBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n.kind, n.bits = schemaInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n.kind, n.bits = schemaUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		n.kind, n.bits = schemaFloat, t.Bits()
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 { // []byte is base64 text
			n.kind, n.elem = schemaSlice, buildSchema(t.Elem(), seen)
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && !reflect.PointerTo(t.Key()).Implements(textUnmarshalerType) {
			n.kind, n.elem = schemaMap, buildSchema(t.Elem(), seen)
		}
	case reflect.Struct:
		n.kind, n.fields, n.folded = schemaStruct, map[string]schemaField{}, map[string]bool{}
		addFields(n, t, map[string]bool{}, seen)
		if len(n.fields) > maxSchemaFields {
			n.kind = schemaUnsupported
		}
	}
	return n
}

// idProbe is the id decodesIDString tries.
const idProbe = "doublecheck_probe"

// decodesIDString is whether the JSON string "idProbe" decodes into t
// (through its UnmarshalJSON) as a t whose ID is idProbe and nothing else.
func decodesIDString(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	id, ok := t.FieldByName("ID")
	if !ok || id.Type.Kind() != reflect.String || len(id.Index) != 1 {
		return false
	}
	v := reflect.New(t)
	if json.Unmarshal([]byte(`"`+idProbe+`"`), v.Interface()) != nil {
		return false
	}
	want := reflect.New(t).Elem()
	want.FieldByIndex(id.Index).SetString(idProbe)
	return reflect.DeepEqual(v.Elem().Interface(), want.Interface())
}

// addFields adds the JSON fields of struct t, embedded structs' fields
// promoted, to n. A name found twice is left to encoding/json (its rules
// pick one by depth and tags).
func addFields(n *schemaNode, t reflect.Type, names map[string]bool, seen map[reflect.Type]*schemaNode) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(n, ft, names, seen)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		field := buildSchema(f.Type, seen)
		if strings.Contains(","+opts+",", ",string,") {
			field = &schemaNode{}
		}
		if names[name] {
			field = &schemaNode{}
		}
		names[name] = true
		n.fields[name] = schemaField{number: len(n.fields), node: field}
		n.folded[strings.ToLower(name)] = true
	}
}

// The members of a charge chargeFromStripe reads, found by fastCharge.
const (
	capID = iota
	capObject
	capCreated
	capAmount
	capAmountCaptured
	capAmountRefunded
	capCurrency
	capStatus
	capCaptured
	capRefunded
	capDisputed
	capDescription
	capReceiptEmail
	capMetadata
	capLivemode
	capCustomer
	capPaymentIntent
	capRefunds
	capBillingEmail
	capCardFingerprint
	capCardBrand
	capCardLast4
	captureCount
)

// capturePaths are the members captured, by path of JSON names.
var capturePaths = [captureCount]string{
	capID: "id", capObject: "object", capCreated: "created", capAmount: "amount",
	capAmountCaptured: "amount_captured", capAmountRefunded: "amount_refunded", capCurrency: "currency",
	capStatus: "status", capCaptured: "captured", capRefunded: "refunded", capDisputed: "disputed",
	capDescription: "description", capReceiptEmail: "receipt_email", capMetadata: "metadata",
	capLivemode: "livemode", capCustomer: "customer", capPaymentIntent: "payment_intent", capRefunds: "refunds",
	capBillingEmail: "billing_details.email", capCardFingerprint: "payment_method_details.card.fingerprint",
	capCardBrand: "payment_method_details.card.brand", capCardLast4: "payment_method_details.card.last4",
}

// wantNode says which members of an object are captured: a slot, or
// members of the object below.
type wantNode struct {
	slot     int
	children map[string]*wantNode
}

var chargeWants = sync.OnceValue(func() *wantNode {
	root := &wantNode{slot: -1, children: map[string]*wantNode{}}
	for slot, path := range capturePaths {
		n := root
		for _, name := range strings.Split(path, ".") {
			if n.children[name] == nil {
				n.children[name] = &wantNode{slot: -1, children: map[string]*wantNode{}}
			}
			n = n.children[name]
		}
		n.slot = slot
	}
	return root
})

// chargeScanner walks a charge object against chargeSchema.
type chargeScanner struct {
	s        []byte
	captured [captureCount][]byte // raw values; nil when absent or null
	depth    int
}

// maxScanDepth bounds the nesting the scanner follows itself.
const maxScanDepth = 64

// fastCharge decodes raw into the fields of a stripe.Charge that
// chargeFromStripe reads; ok is false when it leaves raw to encoding/json.
func fastCharge(raw []byte) (ch stripe.Charge, ok bool) {
	sc := chargeScanner{s: raw}
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ch, false
	}
	end, ok := sc.value(chargeSchema(), chargeWants(), i)
	if !ok || skipSpace(raw, end) != len(raw) {
		return ch, false
	}
	return sc.charge()
}

// value checks the value at s[i] against n, captures what want asks for,
// and returns where the value ends.
func (sc *chargeScanner) value(n *schemaNode, want *wantNode, i int) (int, bool) {
	s := sc.s
	if i >= len(s) {
		return 0, false
	}
	if s[i] == 'n' { // null leaves any Go value as it was
		if !hasLiteral(s, i, "null") {
			return 0, false
		}
		return i + 4, n.kind != schemaUnsupported
	}
	if want != nil && want.slot >= 0 {
		end, ok := sc.value(n, nil, i)
		if ok {
			sc.captured[want.slot] = s[i:end]
		}
		return end, ok
	}
	switch n.kind {
	case schemaString:
		if s[i] != '"' {
			return 0, false
		}
		return stringEnd(s, i)
	case schemaBool:
		switch {
		case hasLiteral(s, i, "true"):
			return i + 4, true
		case hasLiteral(s, i, "false"):
			return i + 5, true
		}
		return 0, false
	case schemaInt, schemaUint, schemaFloat:
		return sc.number(n, i)
	case schemaStruct:
		return sc.object(n, want, i)
	case schemaMap:
		return sc.mapValue(n, i)
	case schemaSlice:
		return sc.array(n, i)
	case schemaCustom:
		end, ok := sc.anyValue(i)
		if !ok || (s[i] == '"' && n.idString) {
			return end, ok
		}
		// Decoded by its own UnmarshalJSON, as encoding/json would.
		return end, json.Unmarshal(s[i:end], reflect.New(n.typ).Interface()) == nil
	case schemaAny:
		return sc.anyValue(i)
	}
	return 0, false
}

func hasLiteral(s []byte, i int, lit string) bool {
	return len(s)-i >= len(lit) && string(s[i:i+len(lit)]) == lit
}

// number checks a number against an integer or float field.
func (sc *chargeScanner) number(n *schemaNode, i int) (int, bool) {
	end, ok := numberEnd(sc.s, i)
	if !ok {
		return 0, false
	}
	text := string(sc.s[i:end])
	var err error
	switch n.kind {
	case schemaInt:
		_, err = strconv.ParseInt(text, 10, n.bits)
	case schemaUint:
		_, err = strconv.ParseUint(text, 10, n.bits)
	default:
		_, err = strconv.ParseFloat(text, n.bits)
	}
	return end, err == nil
}

// object checks an object against a struct's fields.
func (sc *chargeScanner) object(n *schemaNode, want *wantNode, i int) (int, bool) {
	s := sc.s
	i, empty, ok := sc.enter(i, '{', '}')
	if !ok || empty {
		return i, ok
	}
	defer sc.leave()
	var seen fieldSet // the members met, to leave a repeated one to encoding/json
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, false
		}
		keyEnd, ok := stringEnd(s, i)
		if !ok {
			return 0, false
		}
		key := s[i+1 : keyEnd-1]
		if i = skipSpace(s, keyEnd); i >= len(s) || s[i] != ':' {
			return 0, false
		}
		i = skipSpace(s, i+1)
		field, known := n.fields[string(key)]
		switch {
		case !known && sc.foldsToField(n, key):
			return 0, false
		case !known:
			if i, ok = sc.anyValue(i); !ok {
				return 0, false
			}
		default:
			if !seen.add(field.number) {
				return 0, false
			}
			var child *wantNode
			if want != nil {
				child = want.children[string(key)]
			}
			if i, ok = sc.value(field.node, child, i); !ok {
				return 0, false
			}
		}
		next, more, ok := afterMember(s, i, '}')
		if more {
			i = next
			continue
		}
		return next, ok
	}
}

// afterMember reads what follows a member of an object or array ending in
// closing: a comma (more, and where the next member starts) or closing
// (where the value ends); ok is false for anything else.
func afterMember(s []byte, i int, closing byte) (next int, more, ok bool) {
	if i = skipSpace(s, i); i < len(s) && s[i] == ',' {
		return skipSpace(s, i+1), true, true
	}
	if i >= len(s) || s[i] != closing {
		return 0, false, false
	}
	return i + 1, false, true
}

// foldsToField is whether encoding/json might match key to a field of n
// without regard to case (or by Unicode folding, or after unescaping it).
func (sc *chargeScanner) foldsToField(n *schemaNode, key []byte) bool {
	lower := make([]byte, len(key))
	for j, b := range key {
		if b >= utf8.RuneSelf || b == '\\' {
			return true
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		lower[j] = b
	}
	return n.folded[string(lower)]
}

// enter begins a container that s[i] must open: it checks the nesting depth
// (the caller leaves with leave unless the container is empty or refused),
// and says where its first member starts, or that it is empty and where it
// ends.
func (sc *chargeScanner) enter(i int, opening, closing byte) (next int, empty, ok bool) {
	s := sc.s
	if s[i] != opening || sc.depth >= maxScanDepth {
		return 0, false, false
	}
	if i = skipSpace(s, i+1); i < len(s) && s[i] == closing {
		return i + 1, true, true
	}
	sc.depth++
	return i, false, true
}

func (sc *chargeScanner) leave() { sc.depth-- }

// mapValue checks an object against a map with string keys.
func (sc *chargeScanner) mapValue(n *schemaNode, i int) (int, bool) {
	s := sc.s
	i, empty, ok := sc.enter(i, '{', '}')
	if !ok || empty {
		return i, ok
	}
	defer sc.leave()
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, false
		}
		keyEnd, ok := stringEnd(s, i)
		if !ok {
			return 0, false
		}
		if i = skipSpace(s, keyEnd); i >= len(s) || s[i] != ':' {
			return 0, false
		}
		if i, ok = sc.value(n.elem, nil, skipSpace(s, i+1)); !ok {
			return 0, false
		}
		next, more, ok := afterMember(s, i, '}')
		if more {
			i = next
			continue
		}
		return next, ok
	}
}

// array checks an array against a slice.
func (sc *chargeScanner) array(n *schemaNode, i int) (int, bool) {
	s := sc.s
	i, empty, ok := sc.enter(i, '[', ']')
	if !ok || empty {
		return i, ok
	}
	defer sc.leave()
	for {
		var ok bool
		if i, ok = sc.value(n.elem, nil, i); !ok {
			return 0, false
		}
		next, more, ok := afterMember(s, i, ']')
		if more {
			i = next
			continue
		}
		return next, ok
	}
}

// anyValue skips any JSON value.
func (sc *chargeScanner) anyValue(i int) (int, bool) {
	s := sc.s
	if i >= len(s) {
		return 0, false
	}
	switch b := s[i]; {
	case b == '"':
		return stringEnd(s, i)
	case b == '{':
		return sc.mapValue(&schemaNode{kind: schemaMap, elem: &schemaNode{kind: schemaAny}}, i)
	case b == '[':
		return sc.array(&schemaNode{kind: schemaSlice, elem: &schemaNode{kind: schemaAny}}, i)
	case b == 't':
		return i + 4, hasLiteral(s, i, "true")
	case b == 'f':
		return i + 5, hasLiteral(s, i, "false")
	case b == 'n':
		return i + 4, hasLiteral(s, i, "null")
	}
	return numberEnd(s, i)
}

// stringEnd is where the string at s[i] ends, after its closing quote; ok is
// false for a string JSON does not allow (a control character, an escape
// other than JSON's): the import stores a line the fast decoder reads
// without any other check that it is JSON.
func stringEnd(s []byte, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if j++; j >= len(s) {
				return 0, false
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) || !isHex4(s[j+1:j+5]) {
					return 0, false
				}
				j += 4
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// charge builds the stripe.Charge of what was captured. Its strings share
// one copy of the object's text.
func (sc *chargeScanner) charge() (ch stripe.Charge, ok bool) {
	ok = true
	text := string(sc.s)
	str := func(slot int) string {
		raw := sc.captured[slot]
		if raw == nil {
			return ""
		}
		if inner, plain := sc.plain(raw); plain {
			return text[inner : inner+len(raw)-2]
		}
		var s string
		ok = ok && json.Unmarshal(raw, &s) == nil
		return s
	}
	num := func(slot int) int64 {
		if sc.captured[slot] == nil {
			return 0
		}
		n, err := strconv.ParseInt(string(sc.captured[slot]), 10, 64)
		ok = ok && err == nil
		return n
	}
	flag := func(slot int) bool { return string(sc.captured[slot]) == "true" }
	decode := func(slot int, v any) {
		if sc.captured[slot] != nil {
			ok = ok && json.Unmarshal(sc.captured[slot], v) == nil
		}
	}
	// An expandable object given as its id: stripe.ParseID keeps the text
	// between the quotes, which for a plain string is its value.
	id := func(slot int) (string, bool) {
		raw := sc.captured[slot]
		if raw == nil || raw[0] != '"' || !chargeSchema().fields[capturePaths[slot]].node.idString {
			return "", false
		}
		_, plain := sc.plain(raw)
		return str(slot), plain
	}
	ch.ID, ch.Object, ch.Created = str(capID), str(capObject), num(capCreated)
	ch.Amount, ch.AmountCaptured, ch.AmountRefunded = num(capAmount), num(capAmountCaptured), num(capAmountRefunded)
	ch.Currency, ch.Status = stripe.Currency(str(capCurrency)), stripe.ChargeStatus(str(capStatus))
	ch.Captured, ch.Refunded, ch.Disputed, ch.Livemode = flag(capCaptured), flag(capRefunded), flag(capDisputed), flag(capLivemode)
	ch.Description, ch.ReceiptEmail = str(capDescription), str(capReceiptEmail)
	if !sc.metadata(text, &ch) {
		decode(capMetadata, &ch.Metadata)
	}
	if customer, plain := id(capCustomer); plain {
		ch.Customer = &stripe.Customer{ID: customer}
	} else {
		decode(capCustomer, &ch.Customer)
	}
	if intent, plain := id(capPaymentIntent); plain {
		ch.PaymentIntent = &stripe.PaymentIntent{ID: intent}
	} else {
		decode(capPaymentIntent, &ch.PaymentIntent)
	}
	decode(capRefunds, &ch.Refunds)
	if email := str(capBillingEmail); email != "" {
		ch.BillingDetails = &stripe.ChargeBillingDetails{Email: email}
	}
	card := stripe.ChargePaymentMethodDetailsCard{Fingerprint: str(capCardFingerprint),
		Brand: stripe.PaymentMethodCardBrand(str(capCardBrand)), Last4: str(capCardLast4)}
	if card != (stripe.ChargePaymentMethodDetailsCard{}) {
		ch.PaymentMethodDetails = &stripe.ChargePaymentMethodDetails{Card: &card}
	}
	return ch, ok
}

// metadata fills ch.Metadata from the captured object when its keys and
// values are all plain strings; false leaves it to encoding/json.
func (sc *chargeScanner) metadata(text string, ch *stripe.Charge) bool {
	raw := sc.captured[capMetadata]
	if raw == nil {
		return true
	}
	base := offsetIn(sc.s, raw)
	m := map[string]string{}
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != '}' {
		keyEnd, _ := stringEnd(raw, i)
		key := raw[i:keyEnd]
		i = skipSpace(raw, skipSpace(raw, keyEnd)+1)
		if raw[i] != '"' {
			return false // null: encoding/json stores ""
		}
		valueEnd, _ := stringEnd(raw, i)
		value := raw[i:valueEnd]
		if _, plain := sc.plain(key); !plain {
			return false
		}
		if _, plain := sc.plain(value); !plain {
			return false
		}
		keyStart := base + offsetIn(raw, key) + 1
		m[text[keyStart:keyStart+len(key)-2]] = text[base+i+1 : base+valueEnd-1]
		if i = skipSpace(raw, valueEnd); raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	ch.Metadata = m
	return true
}

// plain says whether the string raw, a slice of the object, has no escapes
// and is valid UTF-8, so that encoding/json would decode it to the bytes
// between its quotes, and where those start in the object.
func (sc *chargeScanner) plain(raw []byte) (inner int, ok bool) {
	text := raw[1 : len(raw)-1]
	for _, b := range text {
		if b == '\\' || b < 0x20 {
			return 0, false
		}
	}
	return offsetIn(sc.s, raw) + 1, utf8.Valid(text)
}

// offsetIn is where part starts in whole, of which it is a slice
// (whole[i:j]: the capacity left after it is the same).
func offsetIn(whole, part []byte) int {
	return cap(whole) - cap(part)
}
