package fakex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// schema is the small part of JSON Schema that X's request bodies use.
// X validates bodies against its OpenAPI document before anything else and
// answers every violation at once in an invalid-request problem, with
// messages of the form "$.path: ..." (those of the JSON-schema validator X
// runs); the fake does the same for the bodies it accepts.
type schema struct {
	kind     string // object, array, string, integer, boolean, or "" for any
	props    map[string]*schema
	required []string
	open     bool // additional properties allowed
	items    *schema
	minItems int
	maxItems int // 0 = no maximum
	pattern  *regexp.Regexp
	enum     []string
	minLen   int
	maxLen   int // 0 = no maximum
	min, max *int64
}

var (
	idPattern = regexp.MustCompile(`^[0-9]{1,19}$`)
	idSchema  = &schema{kind: "string", pattern: idPattern}
)

func int64p(v int64) *int64 { return &v }

// tweetCreateSchema is TweetCreateRequest of X's OpenAPI document. The
// rarely used nested objects (call_to_actions, geo) are accepted without
// checking their inside.
var tweetCreateSchema = &schema{kind: "object", props: map[string]*schema{
	"card_uri":                 {kind: "string"},
	"community_id":             idSchema,
	"direct_message_deep_link": {kind: "string"},
	"edit_options": {kind: "object", required: []string{"previous_post_id"}, props: map[string]*schema{
		"previous_post_id": idSchema,
	}},
	"for_super_followers_only": {kind: "boolean"},
	"geo":                      {kind: "object", open: true},
	"made_with_ai":             {kind: "boolean"},
	"media": {kind: "object", required: []string{"media_ids"}, props: map[string]*schema{
		"call_to_actions":  {kind: "object", open: true},
		"description":      {kind: "string"},
		"embeddable":       {kind: "boolean"},
		"media_ids":        {kind: "array", items: idSchema, minItems: 1, maxItems: 4},
		"preview_media_id": idSchema,
		"tagged_user_ids":  {kind: "array", items: idSchema, maxItems: 10},
		"title":            {kind: "string"},
	}},
	"nullcast":         {kind: "boolean"},
	"paid_partnership": {kind: "boolean"},
	"poll": {kind: "object", required: []string{"options", "duration_minutes"}, props: map[string]*schema{
		"duration_minutes": {kind: "integer", min: int64p(5), max: int64p(10080)},
		"options":          {kind: "array", minItems: 2, maxItems: 4, items: &schema{kind: "string", minLen: 1, maxLen: 25}},
		"reply_settings":   replySettingsSchema,
	}},
	"quote_tweet_id": idSchema,
	"reply": {kind: "object", required: []string{"in_reply_to_tweet_id"}, props: map[string]*schema{
		"auto_populate_reply_metadata": {kind: "boolean"},
		"exclude_reply_user_ids":       {kind: "array", items: idSchema},
		"in_reply_to_tweet_id":         idSchema,
	}},
	"reply_settings":       replySettingsSchema,
	"share_with_followers": {kind: "boolean"},
	"text":                 {kind: "string"},
}}

var replySettingsSchema = &schema{kind: "string", enum: []string{"following", "mentionedUsers", "subscribers", "verified"}}

// mediaCategories are MediaCategory of X's document.
var mediaCategories = []string{"amplify_video", "tweet_gif", "tweet_image", "tweet_video", "dm_gif", "dm_image", "dm_video", "subtitles"}

// initializeSchema is the body of POST /2/media/upload/initialize. X's
// document marks no member required; X refuses an upload without a type
// or a size, and so does the fake.
var initializeSchema = &schema{kind: "object", required: []string{"media_type", "total_bytes"}, props: map[string]*schema{
	"additional_owners": {kind: "array", items: idSchema},
	"media_category":    {kind: "string", enum: mediaCategories},
	"media_type": {kind: "string", enum: []string{"video/mp4", "video/webm", "video/mp2t", "video/quicktime", "text/srt", "text/vtt",
		"image/jpeg", "image/gif", "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff", "model/gltf-binary", "model/vnd.usdz+zip"}},
	"shared":      {kind: "boolean"},
	"total_bytes": {kind: "integer", min: int64p(0), max: int64p(17179869184)},
}}

// metadataSchema is MetadataCreateRequest; X's document leaves it open
// beyond alt_text, which is all the fake keeps.
var metadataSchema = &schema{kind: "object", open: true, required: []string{"id"}, props: map[string]*schema{
	"id": idSchema,
	"metadata": {kind: "object", open: true, props: map[string]*schema{
		"alt_text": {kind: "object", required: []string{"text"}, open: true, props: map[string]*schema{
			"text": {kind: "string", maxLen: 1000},
		}},
	}},
}}

// decodeBody reads a JSON body, checks it against s and unmarshals it into
// v. On failure it returns the invalid-request problem X would send.
func decodeBody(body io.Reader, s *schema, v any) (problem, bool) {
	raw, err := io.ReadAll(io.LimitReader(body, maxJSONBody+1))
	if err != nil {
		return invalidRequest(requestError{Message: "The request body could not be read."}), false
	}
	if len(raw) > maxJSONBody {
		return invalidRequest(requestError{Message: "The request body is too large."}), false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return invalidRequest(requestError{Message: "The request body is not valid JSON."}), false
	}
	if errs := s.validate("$", doc); len(errs) > 0 {
		return invalidRequest(errs...), false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return invalidRequest(requestError{Message: "The request body does not match the schema."}), false
	}
	return problem{}, true
}

// maxJSONBody bounds the JSON bodies the fake reads.
const maxJSONBody = 1 << 20

// validate returns one error per violation found under path, in a stable
// order.
func (s *schema) validate(path string, v any) []requestError {
	bad := func(format string, args ...any) []requestError {
		return []requestError{{Parameters: map[string][]string{path: {rawJSON(v)}}, Message: path + ": " + fmt.Sprintf(format, args...)}}
	}
	switch s.kind {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("%s found, object expected", jsonKind(v))
		}
		var errs []requestError
		for _, name := range s.required {
			if _, ok := obj[name]; !ok {
				p := path + "." + name
				errs = append(errs, requestError{Parameters: map[string][]string{p: {}}, Message: p + ": is missing but it is required"})
			}
		}
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			sub, ok := s.props[name]
			switch {
			case ok:
				errs = append(errs, sub.validate(path+"."+name, obj[name])...)
			case !s.open:
				p := path + "." + name
				errs = append(errs, requestError{Parameters: map[string][]string{p: {rawJSON(obj[name])}},
					Message: p + ": is not defined in the schema and the schema does not allow additional properties"})
			}
		}
		return errs
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return bad("%s found, array expected", jsonKind(v))
		}
		if len(arr) < s.minItems {
			return bad("there must be a minimum of %d items in the array", s.minItems)
		}
		if s.maxItems > 0 && len(arr) > s.maxItems {
			return bad("there must be a maximum of %d items in the array", s.maxItems)
		}
		var errs []requestError
		if s.items != nil {
			for i, item := range arr {
				errs = append(errs, s.items.validate(fmt.Sprintf("%s[%d]", path, i), item)...)
			}
		}
		return errs
	case "string":
		str, ok := v.(string)
		if !ok {
			return bad("%s found, string expected", jsonKind(v))
		}
		n := utf8.RuneCountInString(str)
		switch {
		case n < s.minLen:
			return bad("must be at least %d characters long", s.minLen)
		case s.maxLen > 0 && n > s.maxLen:
			return bad("may only be %d characters long", s.maxLen)
		case s.pattern != nil && !s.pattern.MatchString(str):
			return bad("does not match the regex pattern %s", s.pattern)
		case len(s.enum) > 0 && !slices.Contains(s.enum, str):
			return bad("does not have a value in the enumeration [%s]", strings.Join(s.enum, ", "))
		}
	case "integer":
		num, ok := v.(json.Number)
		if !ok {
			return bad("%s found, integer expected", jsonKind(v))
		}
		n, err := num.Int64()
		if err != nil {
			return bad("number found, integer expected")
		}
		if s.min != nil && n < *s.min {
			return bad("must have a minimum value of %d", *s.min)
		}
		if s.max != nil && n > *s.max {
			return bad("must have a maximum value of %d", *s.max)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("%s found, boolean expected", jsonKind(v))
		}
	}
	return nil
}

// jsonKind names the JSON type of a decoded value as X's messages do.
func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// rawJSON is a decoded value as X quotes it in errors[].parameters: strings
// bare, anything else as JSON.
func rawJSON(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
