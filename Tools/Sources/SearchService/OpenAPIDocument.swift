/// The OpenAPI 3.1 document of the service, served at `GET /openapi.json`.
/// `OpenAPITests` checks that it lists exactly the routes the router serves.
enum OpenAPIDocument {
    static let json: [UInt8] = Array(text.utf8)

    static let text = #"""
        {
          "openapi": "3.1.0",
          "info": {"title": "mms serve", "version": "1.0.0",
                   "description": "Multimodal search over one collection. Writes (POST /v1/items, DELETE /v1/items/{id}) need an API key: Authorization: Bearer KEY or X-API-Key: KEY. Errors are {\"error\": {\"code\", \"message\"}}; 503 answers carry Retry-After."},
          "paths": {
            "/v1/search": {"post": {
              "summary": "Search by text, by picture, or both",
              "parameters": [
                {"name": "text", "in": "query", "schema": {"type": "string"}, "description": "With an image/* body"},
                {"name": "k", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                {"name": "userID", "in": "query", "schema": {"type": "string"}}],
              "requestBody": {"required": true, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                  "image": {"type": "string", "format": "binary"}, "text": {"type": "string"},
                  "k": {"type": "integer"}, "userID": {"type": "string"}}}}}},
              "responses": {
                "200": {"description": "Ranked results", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SearchResponse"}}}},
                "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"},
                "415": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
            "/v1/items": {"post": {
              "summary": "Add or replace items (on disk when answered)",
              "security": [{"bearer": []}, {"apiKey": []}],
              "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemsRequest"}}}},
              "responses": {
                "200": {"description": "What was indexed and skipped", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemsResponse"}}}},
                "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
            "/v1/items/{id}": {
              "parameters": [{"$ref": "#/components/parameters/ItemID"}],
              "get": {"summary": "One item",
                "responses": {"200": {"description": "The item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                              "404": {"$ref": "#/components/responses/Error"}}},
              "delete": {"summary": "Delete an item", "security": [{"bearer": []}, {"apiKey": []}],
                "responses": {"200": {"description": "How many were removed", "content": {"application/json": {"schema": {
                                "type": "object", "required": ["removed"], "properties": {"removed": {"type": "integer"}}}}}},
                              "401": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
            "/v1/items/{id}/picture": {"get": {
              "summary": "The item's picture (files inside the collection's pictures/ folder and the --picture-root folders only)",
              "parameters": [{"$ref": "#/components/parameters/ItemID"}],
              "responses": {"200": {"description": "The picture", "content": {"image/jpeg": {}, "image/png": {}}},
                            "404": {"$ref": "#/components/responses/Error"}}}},
            "/v1/events": {"post": {
              "summary": "Record engagement (on disk when answered)",
              "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/Event"},
                {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}}]}}}},
              "responses": {"200": {"description": "How many were recorded", "content": {"application/json": {"schema": {
                              "type": "object", "required": ["recorded"], "properties": {"recorded": {"type": "integer"}}}}}},
                            "400": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
            "/v1/collection": {"get": {
              "summary": "What the collection holds and which queries it takes",
              "responses": {"200": {"description": "The description", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Collection"}}}}}}},
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"$ref": "#/components/responses/Status"}}}},
            "/readyz": {"get": {"summary": "Readiness (503 while draining)",
              "responses": {"200": {"$ref": "#/components/responses/Status"}, "503": {"$ref": "#/components/responses/Status"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics",
              "responses": {"200": {"description": "Text exposition format", "content": {"text/plain": {}}}}}},
            "/openapi.json": {"get": {"summary": "This document",
              "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}},
            "/": {"get": {"summary": "The search page",
              "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}}
          },
          "components": {
            "securitySchemes": {
              "bearer": {"type": "http", "scheme": "bearer"},
              "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "parameters": {
              "ItemID": {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}},
            "responses": {
              "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
              "Unavailable": {"description": "Overloaded or past the deadline; retry after Retry-After seconds",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
              "Status": {"description": "Status", "content": {"application/json": {"schema": {
                "type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["ok", "draining"]}}}}}}},
            "schemas": {
              "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string", "description": "A SearchError code in camelCase (invalidArgument, dimensionMismatch, invalidVector, emptyIndex, duplicateID, notFound, corruptData, unsupportedFormat, io, resourceLimit, cancelled) or unauthorized, payloadTooLarge, unsupportedMediaType, overloaded, deadlineExceeded, methodNotAllowed, internal"},
                               "message": {"type": "string"}}}}},
              "SearchRequest": {"type": "object", "properties": {
                "text": {"type": "string", "maxLength": 4096},
                "image": {"type": "string", "contentEncoding": "base64", "description": "A JPEG or PNG file"},
                "k": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
                "filter": {"type": "object", "properties": {
                  "equals": {"type": "object", "additionalProperties": {"type": "string"}},
                  "prefix": {"type": "object", "additionalProperties": {"type": "string"}}},
                  "description": "Keys: category, tag, caption, or a metadata key"},
                "minRelevance": {"type": "number", "minimum": 0, "maximum": 1},
                "minScores": {"type": "object", "additionalProperties": {"type": "number"}},
                "fusion": {"type": "string", "enum": ["rrf", "minmax", "zscore", "dbsf"]},
                "weights": {"type": "object", "additionalProperties": {"type": "number"}},
                "userID": {"type": "string"}}},
              "Item": {"type": "object", "required": ["id", "tags", "metadata"], "properties": {
                "id": {"type": "integer"}, "caption": {"type": "string"}, "category": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "picture": {"type": "string", "description": "Where GET serves the picture"}}},
              "Result": {"allOf": [{"$ref": "#/components/schemas/Item"}, {"type": "object",
                "required": ["score", "rank", "explanation", "matchedTerms"], "properties": {
                "score": {"type": "number"}, "rank": {"type": "integer"},
                "explanation": {"type": "object", "additionalProperties": {"type": "number"},
                                "description": "Every stage's score: caption, text→image, image, keyword, fusion, relevance, engagement"},
                "keywordScore": {"type": "number"},
                "matchedTerms": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}]},
              "SearchResponse": {"type": "object", "required": ["results", "tookMs"], "properties": {
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
                "tookMs": {"type": "number"},
                "queryCache": {"type": "string", "enum": ["hit", "miss", "off"]}}},
              "NewItem": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer", "minimum": 0}, "caption": {"type": "string"},
                "image": {"type": "string", "contentEncoding": "base64", "description": "A JPEG or PNG file"},
                "category": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}}}},
              "ItemsRequest": {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "maxItems": 1000, "items": {"$ref": "#/components/schemas/NewItem"}}}},
              "ItemsResponse": {"type": "object", "required": ["indexed", "skipped", "tookMs"], "properties": {
                "indexed": {"type": "array", "items": {"type": "integer"}},
                "skipped": {"type": "array", "items": {"type": "object", "properties": {
                  "id": {"type": "integer"}, "error": {"$ref": "#/components/schemas/Error/properties/error"}}}},
                "tookMs": {"type": "number"}}},
              "Event": {"type": "object", "required": ["itemID", "kind"], "properties": {
                "userID": {"type": "string"}, "itemID": {"type": "integer"},
                "kind": {"type": "string", "enum": ["impression", "click", "save", "hide", "purchase"]}}},
              "Collection": {"type": "object", "required": ["count", "fields", "keywordIndex", "pictureQueries", "textToPicture", "calibrated"],
                "properties": {
                "count": {"type": "integer"},
                "fields": {"type": "array", "items": {"type": "object", "properties": {
                  "name": {"type": "string"}, "encoder": {"type": "string"}, "dimension": {"type": "integer"}}}},
                "keywordIndex": {"type": "boolean"}, "pictureQueries": {"type": "boolean"},
                "textToPicture": {"type": "boolean"}, "calibrated": {"type": "array", "items": {"type": "string"}}}}
            }
          }
        }
        """#
}
