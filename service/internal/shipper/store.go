package shipper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Store holds the lake's objects. Put replaces an object whole: a reader sees the old
// object or the new one, never part of one (S3 PutObject).
type Store interface {
	Put(ctx context.Context, key string, body []byte, contentType string) error
	// Get returns ErrNotFound when there is no such object, and ErrUnreadable when access is
	// denied: without s3:ListBucket, S3 answers a missing object with 403, not 404.
	Get(ctx context.Context, key string) ([]byte, error)
	// Create puts an object only if there is none; false when one exists.
	Create(ctx context.Context, key string, body []byte, contentType string) (bool, error)
}

var (
	ErrNotFound   = errors.New("no such object")
	ErrUnreadable = errors.New("access denied: missing, or not readable")
)

// S3Store is a Store on one S3 bucket.
type S3Store struct {
	client *s3.Client
	bucket string
}

// NewS3Store uses the standard AWS configuration (environment, shared files, the instance
// role). With AWS_ENDPOINT_URL set (moto, a local S3), it addresses buckets by path, as
// such endpoints have no per-bucket DNS names.
func NewS3Store(ctx context.Context, bucket, endpoint string) (*S3Store, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.UsePathStyle = true
		}
	})
	return &S3Store{client: client, bucket: bucket}, nil
}

func (s *S3Store) Put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}

func (s *S3Store) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		var missing *types.NoSuchKey
		if errors.As(err, &missing) {
			return nil, ErrNotFound
		}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDenied" {
			return nil, fmt.Errorf("get s3://%s/%s: %w", s.bucket, key, ErrUnreadable)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.bucket, key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (s *S3Store) Create(ctx context.Context, key string, body []byte, contentType string) (bool, error) {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: bytes.NewReader(body), IfNoneMatch: aws.String("*"),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String(contentType),
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "PreconditionFailed" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create s3://%s/%s: %w", s.bucket, key, err)
	}
	return true, nil
}
