package channel

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"conductportal/server/model"
	"conductportal/server/secret"
)

// Pass says what one pass of the worker did.
type Pass struct {
	Sent, Retrying, Failed, Canceled, Skipped int
}

// parallel bounds the sends of one pass: a hanging receiver holds one of
// these for at most Timeout, and the others go on.
const parallel = 8

// KeepLog is how long finished deliveries stay in the log.
const KeepLog = 180 * 24 * time.Hour

// staleClaim is how long an attempt may stay claimed without an outcome
// before it counts as interrupted (its instance stopped mid-send).
const staleClaim = time.Minute

// Deliver makes one attempt at every delivery due at now. Each attempt is
// claimed with a unique insert first, so with several instances only one
// makes it.
func (s *Service) Deliver(ctx context.Context, now time.Time) (Pass, error) {
	due, err := s.store.DueDeliveries(ctx, now, 200)
	if err != nil || len(due) == 0 {
		return Pass{}, err
	}
	chans, err := s.store.Channels(ctx)
	if err != nil {
		return Pass{}, err
	}
	byID := map[string]*model.Channel{}
	for i := range chans {
		byID[chans[i].ID] = &chans[i]
	}
	var (
		mu   sync.Mutex
		pass Pass
		wg   sync.WaitGroup
		sem  = make(chan struct{}, parallel)
	)
	count := func(status string) {
		mu.Lock()
		defer mu.Unlock()
		switch status {
		case model.DeliverySent:
			pass.Sent++
		case model.DeliveryPending:
			pass.Retrying++
		case model.DeliveryFailed:
			pass.Failed++
		case model.DeliveryCanceled:
			pass.Canceled++
		default:
			pass.Skipped++
		}
	}
	for i := range due {
		d := &due[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			count(s.attempt(ctx, d, byID[d.ChannelID], now))
		}()
	}
	wg.Wait()
	return pass, ctx.Err()
}

// attempt makes attempt d.Attempts+1 and records it; it returns the new
// status, or "" when another instance has the attempt.
func (s *Service) attempt(ctx context.Context, d *model.Delivery, ch *model.Channel, now time.Time) string {
	n := d.Attempts + 1
	claimed, err := s.store.ClaimAttempt(ctx, d.ID, n, now.UTC())
	if err != nil {
		s.log.Warn("delivery claim", "delivery", d.ID, "err", err)
		return ""
	}
	if !claimed {
		// Another instance has it, or had it and stopped before recording
		// the outcome: after staleClaim the attempt counts as failed.
		if at, err := s.store.AttemptClaimed(ctx, d.ID, n); err != nil || now.Sub(at) < staleClaim {
			return ""
		}
		d.Attempts = n
		s.fail(d, 0, "attempt interrupted", now)
		s.record(ctx, d)
		return d.Status
	}
	d.Attempts = n
	if ch == nil || !ch.Enabled {
		d.Status, d.Error, d.Next = model.DeliveryCanceled, "channel removed or disabled", time.Time{}
		s.record(ctx, d)
		return d.Status
	}
	err = s.send(ctx, ch, d)
	switch {
	case err == nil:
		d.Status, d.Sent, d.ErrCode, d.Error, d.Next = model.DeliverySent, now.UTC().Truncate(time.Millisecond), 0, "", time.Time{}
	case errors.Is(err, secret.ErrWrongKey) || errors.Is(err, secret.ErrNoKey):
		// Retrying will not help: HR must enter the secrets again.
		d.Status, d.ErrCode, d.Error, d.Next = model.DeliveryFailed, 0, err.Error(), time.Time{}
	default:
		var ve *VendorError
		code, msg := 0, strings.TrimPrefix(err.Error(), "channel: ")
		if errors.As(err, &ve) {
			code, msg = ve.Code, ve.Msg
		}
		s.fail(d, code, msg, now)
	}
	if d.Status != model.DeliverySent {
		s.log.Warn("channel delivery failed", "delivery", d.ID, "channel", ch.Name, "attempt", d.Attempts, "errcode", d.ErrCode, "err", d.Error)
	}
	s.record(ctx, d)
	return d.Status
}

// fail records a failed attempt: retried after Backoff, doubled each
// time, until MaxAttempts.
func (s *Service) fail(d *model.Delivery, code int, msg string, now time.Time) {
	d.ErrCode, d.Error = code, truncate(msg, 300)
	if d.Attempts >= s.MaxAttempts {
		d.Status, d.Next = model.DeliveryFailed, time.Time{}
		return
	}
	d.Status, d.Next = model.DeliveryPending, now.UTC().Add(s.Backoff<<(d.Attempts-1)).Truncate(time.Millisecond)
}

func (s *Service) record(ctx context.Context, d *model.Delivery) {
	d.Updated = time.Now().UTC().Truncate(time.Millisecond)
	if err := s.store.SetDeliveryOutcome(ctx, d); err != nil {
		s.log.Warn("delivery outcome not recorded", "delivery", d.ID, "err", err)
	}
}

// send opens the channel's secrets and posts d.
func (s *Service) send(ctx context.Context, ch *model.Channel, d *model.Delivery) error {
	t := Target{Kind: ch.Kind, To: splitList(ch.To)}
	var err error
	if t.Webhook, err = s.box.Open(ch.Webhook); err != nil {
		return err
	}
	if t.Secret, err = s.box.Open(ch.Secret); err != nil {
		return err
	}
	if t.SMTPURL, err = s.box.Open(ch.SMTPURL); err != nil {
		return err
	}
	return s.sender.Send(ctx, t, Message{Title: d.Title, Text: d.Text, Link: d.Link, LinkText: d.LinkText, Mobiles: d.Mobiles, UserIDs: d.UserIDs})
}

// Run delivers until ctx ends: at once when woken, else every interval
// (for retries and for messages other instances queued).
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var pruned time.Time
	for {
		now := s.now()
		if _, err := s.Deliver(ctx, now); err != nil && ctx.Err() == nil {
			s.log.Warn("channel deliveries", "err", err)
		}
		if now.Sub(pruned) > 24*time.Hour {
			pruned = now
			if n, err := s.store.PruneDeliveries(ctx, now.Add(-KeepLog)); err != nil && ctx.Err() == nil {
				s.log.Warn("delivery log prune", "err", err)
			} else if n > 0 {
				s.log.Info("old deliveries removed", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}
