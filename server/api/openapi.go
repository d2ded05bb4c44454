package api

import (
	"github.com/gofiber/fiber/v2"
)

// The OpenAPI 3.1 document of the API. It is written by hand next to the
// routes; a test checks that every registered route is in it.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

// op describes one operation: its summary, who may call it, the body it
// takes (nil: none), and its success status with the schema answered.
func op(summary, tag string, body obj, status string, answer obj, params ...obj) obj {
	o := obj{
		"summary": summary, "tags": []string{tag},
		"responses": obj{
			status:    obj{"description": "success", "content": obj{"application/json": obj{"schema": answer}}},
			"default": obj{"description": "an error", "content": obj{"application/json": obj{"schema": ref("Error")}}},
		},
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if body != nil {
		o["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": body}}}
	}
	return o
}

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}}
}

func query(name, desc string) obj {
	return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": obj{"type": "string"}}
}

var (
	slug    = pathParam("slug", "the lesson's slug, e.g. dress")
	anyObj  = obj{"type": "object"}
	objList = obj{"type": "array", "items": anyObj}
	filters = []obj{query("manager", "a manager's login (HR: any; managers: their own)"), query("department", "a department (HR or its manager)"),
		query("status", "not_started, reading, quiz_passed, done or needs_reack"), query("lesson", "one lesson's slug"),
		query("overdue", "1: overdue cells only"), query("reack", "1: cells to sign again only"),
		query("expiring", "1: signatures ageing out within 30 days only"), query("sort", "name, login, department, percent or overdue"),
		query("desc", "1: descending")}
)

// openAPI is the document, built once.
var openAPI = obj{
	"openapi": "3.1.0",
	"info": obj{"title": "Conduct Portal API", "version": "1",
		"description": "The learner's, managers' and HR's API. Authenticate with `Authorization: Bearer <token>` " +
			"(`bin/portal token create --login L`), or with the browser session plus the `X-CSRF-Token` header on writes."},
	"servers":  []obj{{"url": "/api/v1"}},
	"security": []obj{{"bearer": []string{}}},
	"paths": obj{
		"/me":          obj{"get": op("The caller", "learner", nil, "200", ref("Me"))},
		"/me/lessons":  obj{"get": op("The caller's lessons with status and due date", "learner", nil, "200", obj{"type": "array", "items": ref("LessonStatus")})},
		"/me/receipts": obj{"get": op("The caller's receipts, oldest first", "learner", nil, "200", obj{"type": "array", "items": ref("Receipt")})},
		"/lessons/{slug}": obj{"get": op("The current version of a lesson in the caller's language (?lang=zh-CN|en)", "learner", nil, "200", anyObj,
			slug, query("lang", "zh-CN or en"))},
		"/lessons/{slug}/read":     obj{"post": op("Marks the current version read", "learner", nil, "200", anyObj, slug)},
		"/lessons/{slug}/attempts": obj{"post": op("Draws a quiz attempt (no answers in it)", "learner", nil, "201", anyObj, slug)},
		"/attempts/{id}/submit": obj{"post": op("Grades an attempt once; again returns the first result", "learner",
			obj{"type": "object", "required": []string{"answers"}, "additionalProperties": false,
				"properties": obj{"answers": obj{"type": "object", "additionalProperties": obj{"type": "array", "items": obj{"type": "string"}}}}},
			"200", anyObj, pathParam("id", "the attempt's id"))},
		"/lessons/{slug}/acknowledgements": obj{"post": op("Signs the current version; again returns the same receipt", "learner",
			obj{"type": "object", "required": []string{"version", "signature"}, "additionalProperties": false,
				"properties": obj{"version": obj{"type": "integer"}, "signature": obj{"type": "string", "description": "the caller's full name"}}},
			"201", ref("Receipt"), slug)},
		"/reports/team":         obj{"get": op("A team's matrix, as the team page shows it", "reports", nil, "200", anyObj, filters...)},
		"/reports/organisation": obj{"get": op("Completion by department and by lesson (HR)", "reports", nil, "200", anyObj)},
		"/lessons/{slug}/drafts": obj{"post": op("Stores a draft: the lesson file per language and the quiz YAML (HR)", "hr",
			obj{"type": "object", "properties": obj{"files": obj{"type": "object", "additionalProperties": obj{"type": "string"}}, "quiz": obj{"type": "string"}}},
			"200", anyObj, slug)},
		"/lessons/{slug}/publish": obj{"post": op("Publishes the draft as a new version (HR)", "hr",
			obj{"type": "object", "required": []string{"kind", "note"},
				"properties": obj{"kind": obj{"enum": []string{"minor", "reack", "requiz"}}, "note": obj{"type": "string"}, "grace_days": obj{"type": "integer"}}},
			"200", anyObj, slug)},
		"/lessons/{slug}/versions": obj{"get": op("Every published version (HR)", "hr", nil, "200", objList, slug)},
		"/users": obj{"post": op("Creates or updates a person by login (HR)", "hr",
			obj{"type": "object", "required": []string{"login", "name"},
				"properties": obj{"login": obj{"type": "string"}, "name": obj{"type": "string"}, "roles": obj{"type": "array", "items": obj{"type": "string"}},
					"department": obj{"type": "string"}, "manager": obj{"type": "string"}, "hired": obj{"type": "string", "format": "date"}}},
			"200", anyObj)},
		"/openapi.json": obj{"get": obj{"summary": "This document", "tags": []string{"meta"}, "security": []obj{},
			"responses": obj{"200": obj{"description": "the OpenAPI document"}}}},
	},
	"components": obj{
		"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}},
		"schemas": obj{
			"Error": obj{"type": "object", "properties": obj{"error": obj{"type": "object", "required": []string{"code", "message"},
				"properties": obj{"code": obj{"type": "string"}, "message": obj{"type": "string"}, "field": obj{"type": "string"}, "request_id": obj{"type": "string"}}}}},
			"Me": obj{"type": "object", "properties": obj{"login": obj{"type": "string"}, "name": obj{"type": "string"},
				"roles": obj{"type": "array", "items": obj{"type": "string"}}, "lang": obj{"type": "string"}, "department": obj{"type": "string"}, "manager": obj{"type": "string"}}},
			"LessonStatus": obj{"type": "object", "properties": obj{"slug": obj{"type": "string"}, "title": obj{"type": "string"}, "version": obj{"type": "integer"},
				"status":  obj{"enum": []string{"not_started", "reading", "quiz_passed", "done", "needs_reack"}},
				"reason":  obj{"enum": []string{"changed", "renewal"}},
				"overdue": obj{"type": "boolean"}, "due": obj{"type": "string", "format": "date-time"}, "expires": obj{"type": "string", "format": "date-time"}}},
			"Receipt": obj{"type": "object", "properties": obj{"id": obj{"type": "string"}, "lesson": obj{"type": "string"}, "version": obj{"type": "integer"},
				"lang": obj{"type": "string"}, "text_hash": obj{"type": "string"}, "prev_hash": obj{"type": "string"}, "hash": obj{"type": "string"},
				"at": obj{"type": "string", "format": "date-time"}}},
		},
	},
}

// openapi answers the document; it needs no login.
func (a *API) openapi(c *fiber.Ctx) error { return c.JSON(openAPI) }

// OpenAPIPaths lists "METHOD /path" of every documented operation, with
// {param} path parameters (for the test that every route is documented).
func OpenAPIPaths() []string {
	var out []string
	for path, ops := range openAPI["paths"].(obj) {
		for method := range ops.(obj) {
			out = append(out, method+" "+path)
		}
	}
	return out
}
