package shipper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Watermark is the watermark object's content: everything before ShippedUntil is in the lake.
type Watermark struct {
	SchemaVersion int       `json:"schema_version"`
	ShippedUntil  time.Time `json:"shipped_until"`
}

// ReadWatermark returns the zero time when the shipper has never shipped.
func ReadWatermark(ctx context.Context, store Store, key string) (time.Time, error) {
	body, err := store.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if errors.Is(err, ErrUnreadable) {
		// The shipper may read its watermark but not list the bucket, so a missing one is a
		// 403: claim the key with "shipped nothing yet"; if something is there, it is unreadable.
		created, cerr := createEmptyWatermark(ctx, store, key)
		if cerr != nil {
			return time.Time{}, cerr
		}
		if created {
			return time.Time{}, nil
		}
		return time.Time{}, fmt.Errorf("watermark %s exists but cannot be read (it needs s3:GetObject): %w", key, err)
	}
	if err != nil {
		return time.Time{}, err
	}
	var w Watermark
	if err := json.Unmarshal(body, &w); err != nil {
		return time.Time{}, fmt.Errorf("watermark %s: %w", key, err)
	}
	return w.ShippedUntil.UTC(), nil
}

// WriteWatermark is called only once every object of the windows before until exists.
func WriteWatermark(ctx context.Context, store Store, key string, until time.Time) error {
	body, err := json.Marshal(Watermark{SchemaVersion: SchemaVersion, ShippedUntil: until.UTC()})
	if err != nil {
		return err
	}
	return store.Put(ctx, key, body, "application/json")
}

func createEmptyWatermark(ctx context.Context, store Store, key string) (bool, error) {
	body, err := json.Marshal(Watermark{SchemaVersion: SchemaVersion})
	if err != nil {
		return false, err
	}
	return store.Create(ctx, key, body, "application/json")
}
