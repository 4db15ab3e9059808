package teams

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // GIF headers for image.DecodeConfig
	_ "image/jpeg" // JPEG headers
	_ "image/png"  // PNG headers
	"io"
	"net/http"
	"strings"
	"time"
)

// Teams' limits on images sent by bots.
const (
	MaxImageBytes     = 1 << 20
	MaxImageDimension = 1024
)

// ErrImage is wrapped by the errors of [CheckImage].
var ErrImage = errors.New("teams: image not sendable")

// CheckImage fetches the image at rawURL (http(s), or a data: URL) and
// checks it against Teams' limits: PNG, JPEG or GIF, at most MaxImageBytes
// and MaxImageDimension pixels each way, and of the declared content type
// when one is given.
func CheckImage(ctx context.Context, client *http.Client, rawURL, contentType string) error {
	data, err := fetchImage(ctx, client, rawURL)
	if err != nil {
		return err
	}
	if len(data) > MaxImageBytes {
		return fmt.Errorf("%w: over %d bytes", ErrImage, MaxImageBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: not a PNG, JPEG or GIF: %w", ErrImage, err)
	}
	if cfg.Width > MaxImageDimension || cfg.Height > MaxImageDimension {
		return fmt.Errorf("%w: %d×%d is over %d×%d", ErrImage, cfg.Width, cfg.Height, MaxImageDimension, MaxImageDimension)
	}
	if contentType != "" {
		want := strings.TrimPrefix(strings.ToLower(contentType), "image/")
		if want == "jpg" {
			want = "jpeg"
		}
		if want != format {
			return fmt.Errorf("%w: declared %s, is %s", ErrImage, contentType, format)
		}
	}
	return nil
}

func fetchImage(ctx context.Context, client *http.Client, rawURL string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(rawURL, "data:"); ok {
		meta, payload, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return nil, fmt.Errorf("%w: data URL is not base64", ErrImage)
		}
		if base64.StdEncoding.DecodedLen(len(payload)) > MaxImageBytes+3 {
			return nil, fmt.Errorf("%w: over %d bytes", ErrImage, MaxImageBytes)
		}
		data, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return nil, fmt.Errorf("%w: data URL: %w", ErrImage, err)
		}
		return data, nil
	}
	if !strings.HasPrefix(rawURL, "https://") && !strings.HasPrefix(rawURL, "http://") {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", ErrImage, rawURL)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImage, err)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImage, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrImage, rawURL, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImage, err)
	}
	return data, nil
}

// maxImageCache bounds the remembered image checks.
const maxImageCache = 1024

// checkImage is CheckImage with the connector's client, remembering each
// URL's verdict.
func (c *Connector) checkImage(ctx context.Context, url, contentType string) error {
	if strings.HasPrefix(url, "data:") {
		return CheckImage(ctx, c.client, url, contentType) // no fetch; not worth a cache entry
	}
	key := contentType + " " + url
	c.imgMu.Lock()
	err, ok := c.images[key]
	c.imgMu.Unlock()
	if ok {
		return err
	}
	err = CheckImage(ctx, c.client, url, contentType)
	if err != nil {
		c.log.Warn("teams: image sent as a link", "url", url, "err", err)
	}
	if ctx.Err() != nil {
		return err // not a verdict on the image
	}
	c.imgMu.Lock()
	if len(c.images) >= maxImageCache {
		clear(c.images)
	}
	c.images[key] = err
	c.imgMu.Unlock()
	return err
}
