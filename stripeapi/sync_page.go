package stripeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/form"
)

// rawPage is one page of a Stripe list with its items kept as JSON, so each
// charge is stored exactly as Stripe sent it.
type rawPage struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
	served  time.Time         // when the server answered, by its own clock
}

func (p *rawPage) SetLastResponse(resp *stripe.APIResponse) { p.served = servedAt(resp) }

// servedAt is the server's Date header: list pages are then observed on the
// same clock as the events' created times, so the store's newest-wins rule
// orders them without trusting the local clock. Without the header, it is now.
func servedAt(resp *stripe.APIResponse) time.Time {
	if resp != nil {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return t.UTC()
		}
	}
	return time.Now().UTC()
}

// listPage fetches one page of a slice, newest first, with stripe-go's list
// parameters and form encoding (as its list iterators do).
func (c *Client) listPage(ctx context.Context, spec sliceSpec, after string) (*rawPage, error) {
	list := stripe.ListParams{Limit: stripe.Int64(pageSize)}
	if after != "" {
		list.StartingAfter = stripe.String(after)
	}
	created := &stripe.RangeQueryParams{GreaterThanOrEqual: spec.Lo, LesserThan: spec.Hi}
	var (
		params stripe.ListParamsContainer
		path   string
	)
	switch spec.Kind {
	case kindCharges:
		params, path = &stripe.ChargeListParams{ListParams: list, CreatedRange: created}, "/v1/charges"
	default:
		params, path = &stripe.EventListParams{ListParams: list, CreatedRange: created, Types: stripe.StringSlice(eventTypes)}, "/v1/events"
	}
	query := &form.Values{}
	form.AppendTo(query, params)
	page := &rawPage{}
	err := c.call(ctx, func(ctx context.Context) error {
		*page = rawPage{}
		params.GetListParams().Context = ctx
		return c.backend.CallRaw(http.MethodGet, path, c.key.Secret, query, params.GetListParams().GetParams(), page)
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", spec.Kind, err)
	}
	return page, nil
}
