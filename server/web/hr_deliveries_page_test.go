package web_test

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/channel"
	"conductportal/server/model"
)

var (
	deliveryPerson  = regexp.MustCompile(`<a href="/hr/people/(p\d{3})">`)
	deliveriesNext  = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next" id="deliveries-next">`)
	deliveriesFirst = regexp.MustCompile(`<a href="([^"]+)" id="deliveries-first">`)
)

// TestDeliveriesPaging: the delivery log shows 50 a page, newest change
// first; the next links keep the channel and the state and walk every
// delivery once; a bad cursor is a 400 that says so.
func TestDeliveriesPaging(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	var chans []*model.Channel
	for _, name := range []string{"客服部群", "前台群"} {
		ch, err := p.Channels.Save(ctx, model.Actor{Login: "hr"}, nil, channel.Input{Name: name, Kind: channel.KindWeCom, Webhook: "http://127.0.0.1:1/send?key=" + name})
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	// 150 finished deliveries (the worker leaves them alone): two channels,
	// sent or failed, two at a time sharing an update time.
	now := time.Now().UTC().Truncate(time.Millisecond)
	var all []model.Delivery
	for i := range 150 {
		ch, st := chans[i%2], []string{model.DeliverySent, model.DeliveryFailed}[i/2%2]
		d := model.Delivery{ID: fmt.Sprintf("test/%03d|%s", i, ch.ID), Message: fmt.Sprintf("test/%03d", i), ChannelID: ch.ID, ChannelName: ch.Name,
			ChannelKind: ch.Kind, Kind: model.DeliveryTest, Person: fmt.Sprintf("p%03d", i), Title: "t", Text: "t", Status: st,
			Created: now, Updated: now.Add(-time.Duration(i/2) * time.Minute)}
		if ok, err := p.Store.QueueDelivery(ctx, &d); err != nil || !ok {
			t.Fatal(ok, err)
		}
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b model.Delivery) int {
		return cmp.Or(b.Updated.Compare(a.Updated), strings.Compare(a.ID, b.ID))
	})
	want := func(chID, status string) (out []string) {
		for _, d := range all {
			if (chID == "" || d.ChannelID == chID) && (status == "" || d.Status == status) {
				out = append(out, d.Person)
			}
		}
		return out
	}
	walk := func(q url.Values) (rows []string) {
		t.Helper()
		u := "/hr/channels/deliveries?" + q.Encode()
		for pages := 0; u != ""; pages++ {
			st, body := hr.get(t, p.Base+u)
			if st != http.StatusOK || pages > 5 {
				t.Fatalf("%s: %d (page %d)", u, st, pages)
			}
			// After the first page, a way back to it with the filter.
			if m := deliveriesFirst.FindStringSubmatch(body); (m == nil) != (pages == 0) || m != nil && html.UnescapeString(m[1]) != "/hr/channels/deliveries?"+q.Encode() {
				t.Fatalf("page %d of %v: the first page's link %q", pages, q, m)
			}
			n := 0
			for _, m := range deliveryPerson.FindAllStringSubmatch(body, -1) {
				rows, n = append(rows, m[1]), n+1
			}
			u = ""
			if m := deliveriesNext.FindStringSubmatch(body); m != nil {
				u = html.UnescapeString(m[1])
				next, _ := url.Parse(u)
				for k := range q {
					if next.Query().Get(k) != q.Get(k) {
						t.Fatalf("the next link %q lost %s", u, k)
					}
				}
				if n != 50 {
					t.Fatalf("a page of %d rows has a next link", n)
				}
			}
		}
		return rows
	}
	for _, q := range []url.Values{
		{},
		{"status": {model.DeliveryFailed}},
		{"channel": {chans[1].ID}},
		{"channel": {chans[0].ID}, "status": {model.DeliverySent}},
	} {
		got, w := walk(q), want(q.Get("channel"), q.Get("status"))
		if len(w) == 0 || !slices.Equal(got, w) {
			t.Errorf("%v: the pages walk %d rows %v\nwant %d %v", q, len(got), got, len(w), w)
		}
	}
	// A channel's state links keep the channel.
	if _, body := hr.get(t, p.Base+"/hr/channels/deliveries?channel="+chans[0].ID); !strings.Contains(body, `href="/hr/channels/deliveries?channel=`+chans[0].ID+`&amp;status=failed"`) {
		t.Error("a channel's state links lose the channel")
	}
	st, body := hr.get(t, p.Base+"/hr/channels/deliveries?status=sent&after=zzz")
	if st != http.StatusBadRequest || !strings.Contains(body, "这个翻页链接无效或已损坏") || deliveryPerson.MatchString(body) {
		t.Errorf("a bad cursor: %d", st)
	}
}
