/// The OpenAPI 3.1 document of the HTTP API, served at `GET /openapi.json`.
///
/// Kept in the binary (an installed `tagtune` needs no file beside it) as a raw string literal: as a
/// SwiftPM `.embedInCode` resource (a byte-array literal) an 85 KB document took about 25 s to
/// compile on this project's 2-core machine, as a string about 1 s.
/// Edit the JSON below; `OpenAPIDocumentTests` checks it against the router's routes and the
/// responses the server really sends, and `scripts/check_openapi.py` validates it as OpenAPI 3.1.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "TagTune",
    "version": "0.1.0",
    "summary": "Multi-label photo tagging with a frozen CLIP, and LMPT prompt tuning as background jobs.",
    "description": "Every error has one shape, `{\"error\": {\"message\", \"type\", \"code\", \"param\"}}`, with the matching status. Every response carries `X-Request-ID` (the client's own, when it sends a sane one). A method a path does not serve is a 405 with `Allow`. When API keys are configured (`auth.api_keys`), every POST, PATCH and DELETE under /v1 needs `Authorization: Bearer <key>`; reads stay open."
  },
  "servers": [
    {
      "url": "/"
    }
  ],
  "tags": [
    {
      "name": "operations",
      "description": "Liveness, readiness, build information, metrics, this document."
    },
    {
      "name": "models",
      "description": "Encoder checkpoints in `models.dir`."
    },
    {
      "name": "prompt-sets",
      "description": "Tuned prompt sets in `prompt_sets.dir`."
    },
    {
      "name": "tagging",
      "description": "Labels for images."
    },
    {
      "name": "datasets",
      "description": "Uploaded training datasets."
    },
    {
      "name": "tuning",
      "description": "Prompt-tuning jobs, shaped like OpenAI's fine-tuning jobs."
    }
  ],
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "getLiveness",
        "tags": [
          "operations"
        ],
        "summary": "Liveness: 200 while the process answers.",
        "responses": {
          "200": {
            "description": "Alive.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "getReadiness",
        "tags": [
          "operations"
        ],
        "summary": "Readiness: 200 once the default model and prompt set are loaded and warm.",
        "description": "503 (`not_ready`) with what is still missing until then.",
        "responses": {
          "200": {
            "description": "Ready (`{\"status\": \"ready\"}`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/health": {
      "get": {
        "operationId": "getHealth",
        "tags": [
          "operations"
        ],
        "summary": "The same as /readyz.",
        "responses": {
          "200": {
            "description": "Ready.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/info": {
      "get": {
        "operationId": "getInfo",
        "tags": [
          "operations"
        ],
        "summary": "Name, version, build, limits, batching and the default model.",
        "responses": {
          "200": {
            "description": "The server's description.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Info"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "getMetrics",
        "tags": [
          "operations"
        ],
        "summary": "Prometheus metrics.",
        "responses": {
          "200": {
            "description": "Prometheus text exposition format 0.0.4.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "getOpenAPIDocument",
        "tags": [
          "operations"
        ],
        "summary": "This document.",
        "responses": {
          "200": {
            "description": "The OpenAPI 3.1 document of the API.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/models": {
      "get": {
        "operationId": "listModels",
        "tags": [
          "models"
        ],
        "summary": "The encoders in the models folder.",
        "responses": {
          "200": {
            "description": "Every model folder.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelList"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/models/{name}": {
      "get": {
        "operationId": "getModel",
        "tags": [
          "models"
        ],
        "summary": "One encoder.",
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "description": "The model's folder name.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The model.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Model"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/prompt-sets": {
      "get": {
        "operationId": "listPromptSets",
        "tags": [
          "prompt-sets"
        ],
        "summary": "The prompt sets in the prompt-sets folder.",
        "description": "Unknown query parameters are refused with 422.",
        "parameters": [
          {
            "name": "model",
            "in": "query",
            "required": false,
            "description": "Only those bound to this model (404 when there is no such model).",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Prompt sets, by id.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PromptSetList"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "422": {
            "$ref": "#/components/responses/UnprocessableContent"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/prompt-sets/{id}": {
      "get": {
        "operationId": "getPromptSet",
        "tags": [
          "prompt-sets"
        ],
        "summary": "One prompt set.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The prompt set's folder name.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The prompt set.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PromptSet"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      },
      "patch": {
        "operationId": "updatePromptSet",
        "tags": [
          "prompt-sets"
        ],
        "summary": "Change class thresholds and/or make it its model's default.",
        "description": "Thresholds are written atomically to `prompt_set.json`; the default is kept in `data_dir/default-prompt-sets.json`. 409 when the prompt set cannot be used or (for `default`) no model has its weights.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The prompt set's folder name.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PromptSetPatch"
              }
            }
          }
        },
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "responses": {
          "200": {
            "description": "The prompt set after the change.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PromptSet"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/UnprocessableContent"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/tag": {
      "post": {
        "operationId": "tagImages",
        "tags": [
          "tagging"
        ],
        "summary": "Tag one or more images.",
        "description": "404: unknown model or prompt set. 409 (`encoder_mismatch`): the prompt set was tuned on other weights. 422 (`model_mismatch`): the prompt set belongs to another model than the one named. 413: too many images or pixels, or the body is too large. 429 (`queue_full`) beyond `batching.max_queue`. 503 (`no_default`) when nothing is named and there is no default.",
        "parameters": [
          {
            "name": "prompt_set",
            "in": "query",
            "required": false,
            "description": "Prompt set to score with (default: the model's default). Raw and multipart bodies only.",
            "schema": {
              "type": "string",
              "minLength": 1,
              "pattern": "\\S"
            }
          },
          {
            "name": "model",
            "in": "query",
            "required": false,
            "description": "Model to encode with (default: `models.default`).",
            "schema": {
              "type": "string",
              "minLength": 1,
              "pattern": "\\S"
            }
          },
          {
            "name": "classes",
            "in": "query",
            "required": false,
            "description": "Zero-shot classes, comma-separated, instead of a prompt set (not together with `prompt_set`).",
            "schema": {
              "type": "string",
              "pattern": "^[^,]*[^,\\s][^,]*(,[^,]*[^,\\s][^,]*)*$"
            }
          },
          {
            "name": "top_k",
            "in": "query",
            "required": false,
            "description": "Return only the k highest-scoring labels per image.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "threshold",
            "in": "query",
            "required": false,
            "description": "One decision threshold for every class, in [0, 1].",
            "schema": {
              "type": "number",
              "minimum": 0,
              "maximum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "description": "One image as the raw body (options in the query); several as multipart/form-data (every part with a filename or an image Content-Type is an image, other parts are options); or JSON with base64 images (options in the body, not the query). `image/jpg` is taken as `image/jpeg`.",
          "content": {
            "image/jpeg": {},
            "image/png": {},
            "multipart/form-data": {
              "schema": {
                "type": "object",
                "properties": {
                  "images": {
                    "type": "array",
                    "items": {
                      "type": "string",
                      "contentMediaType": "image/*"
                    },
                    "description": "The images: any part with a filename (JPEG or PNG)."
                  },
                  "prompt_set": {
                    "type": "string",
                    "minLength": 1,
                    "pattern": "\\S"
                  },
                  "model": {
                    "type": "string",
                    "minLength": 1,
                    "pattern": "\\S"
                  },
                  "classes": {
                    "type": "string",
                    "description": "Comma-separated.",
                    "pattern": "^[^,]*[^,\\s][^,]*(,[^,]*[^,\\s][^,]*)*$"
                  },
                  "top_k": {
                    "type": "integer",
                    "minimum": 1
                  },
                  "threshold": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1
                  }
                }
              }
            },
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/TagJSONRequest"
              }
            }
          }
        },
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "responses": {
          "200": {
            "description": "Labels per image.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TagResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/UnprocessableContent"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/datasets": {
      "post": {
        "operationId": "createDataset",
        "tags": [
          "datasets"
        ],
        "summary": "Upload a dataset zip.",
        "parameters": [
          {
            "name": "name",
            "in": "query",
            "required": false,
            "description": "The dataset's name (else the form's `name` field, else the file name).",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 200
            }
          }
        ],
        "requestBody": {
          "required": true,
          "description": "`classes.txt` + `manifest.jsonl` + the images, zipped; validated whole before it is accepted.",
          "content": {
            "application/zip": {},
            "application/x-zip-compressed": {},
            "application/octet-stream": {},
            "multipart/form-data": {
              "schema": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                  "file": {
                    "type": "string",
                    "contentMediaType": "application/zip",
                    "description": "The zip: one file part (any part with a filename, or this one without)."
                  },
                  "name": {
                    "type": "string",
                    "description": "The dataset's name."
                  }
                },
                "required": [
                  "file"
                ]
              }
            }
          }
        },
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "responses": {
          "201": {
            "description": "The accepted dataset.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Dataset"
                }
              }
            },
            "links": {
              "GetDataset": {
                "operationId": "getDataset",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "DeleteDataset": {
                "operationId": "deleteDataset",
                "parameters": {
                  "id": "$response.body#/id"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "description": "The dataset is refused (`invalid_dataset`, with every problem), or a field is invalid (`invalid_name`, `missing_file`, `too_many_files`, `unknown_field`: the plain error shape).",
            "content": {
              "application/json": {
                "schema": {
                  "anyOf": [
                    {
                      "$ref": "#/components/schemas/DatasetRejection"
                    },
                    {
                      "$ref": "#/components/schemas/Error"
                    }
                  ]
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      },
      "get": {
        "operationId": "listDatasets",
        "tags": [
          "datasets"
        ],
        "summary": "Datasets, newest first.",
        "parameters": [
          {
            "name": "after",
            "in": "query",
            "required": false,
            "description": "Return the items older than this id (the last id of the previous page).",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Page size.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 20
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of datasets.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DatasetList"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "422": {
            "$ref": "#/components/responses/UnprocessableContent"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/datasets/{id}": {
      "get": {
        "operationId": "getDataset",
        "tags": [
          "datasets"
        ],
        "summary": "One dataset.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "`ds-…`",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The dataset.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Dataset"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      },
      "delete": {
        "operationId": "deleteDataset",
        "tags": [
          "datasets"
        ],
        "summary": "Remove a dataset.",
        "description": "409 (`dataset_in_use`) while a queued or running job uses it.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "`ds-…`",
            "schema": {
              "type": "string"
            }
          }
        ],
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "responses": {
          "200": {
            "description": "It is gone.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DeletedDataset"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/tuning/jobs": {
      "post": {
        "operationId": "createTuningJob",
        "tags": [
          "tuning"
        ],
        "summary": "Start a prompt-tuning job.",
        "description": "404: unknown model or dataset (`param` names which). 422: unknown fields, wrong types, values out of range.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateTuningJobRequest"
              }
            }
          }
        },
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "responses": {
          "201": {
            "description": "The queued job.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TuningJob"
                }
              }
            },
            "links": {
              "GetTuningJob": {
                "operationId": "getTuningJob",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "ListTuningJobEvents": {
                "operationId": "listTuningJobEvents",
                "parameters": {
                  "id": "$response.body#/id"
                }
              },
              "CancelTuningJob": {
                "operationId": "cancelTuningJob",
                "parameters": {
                  "id": "$response.body#/id"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/ContentTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/UnprocessableContent"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      },
      "get": {
        "operationId": "listTuningJobs",
        "tags": [
          "tuning"
        ],
        "summary": "Jobs, newest first.",
        "parameters": [
          {
            "name": "after",
            "in": "query",
            "required": false,
            "description": "Return the items older than this id (the last id of the previous page).",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Page size.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 20
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of jobs.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TuningJobList"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "422": {
            "$ref": "#/components/responses/UnprocessableContent"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/tuning/jobs/{id}": {
      "get": {
        "operationId": "getTuningJob",
        "tags": [
          "tuning"
        ],
        "summary": "One job: status, progress, metrics, prompt set, error.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "`ftjob-…`",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The job.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TuningJob"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/tuning/jobs/{id}/events": {
      "get": {
        "operationId": "listTuningJobEvents",
        "tags": [
          "tuning"
        ],
        "summary": "A job's log, newest first.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "`ftjob-…`",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "after",
            "in": "query",
            "required": false,
            "description": "Return the items older than this id (the last id of the previous page).",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Page size.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 20
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of events.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TuningJobEventList"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "422": {
            "$ref": "#/components/responses/UnprocessableContent"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    },
    "/v1/tuning/jobs/{id}/cancel": {
      "post": {
        "operationId": "cancelTuningJob",
        "tags": [
          "tuning"
        ],
        "summary": "Cancel a job.",
        "description": "409 (`job_finished`) once the job has finished.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "`ftjob-…`",
            "schema": {
              "type": "string"
            }
          }
        ],
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "responses": {
          "200": {
            "description": "The job: `cancelled` at once when it was queued, else `cancel_requested` until its next step.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TuningJob"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "429": {
            "$ref": "#/components/responses/TooManyRequests"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/ServiceUnavailable"
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Error": {
        "type": "object",
        "description": "The one error shape of the API, with the matching HTTP status.",
        "properties": {
          "error": {
            "$ref": "#/components/schemas/ErrorDetail"
          }
        },
        "required": [
          "error"
        ]
      },
      "ErrorDetail": {
        "type": "object",
        "properties": {
          "message": {
            "type": "string",
            "description": "What went wrong, in words a person can act on."
          },
          "type": {
            "type": "string",
            "description": "The error's family by status, as OpenAI-style clients expect.",
            "enum": [
              "invalid_request_error",
              "authentication_error",
              "not_found_error",
              "conflict_error",
              "rate_limit_error",
              "unavailable_error",
              "server_error"
            ]
          },
          "code": {
            "type": "string",
            "description": "A stable machine-readable code, e.g. `not_found`, `invalid_value`, `missing_api_key`, `queue_full`, `timeout`."
          },
          "param": {
            "type": [
              "string",
              "null"
            ],
            "description": "The request field at fault (`images[0].base64`, `hyperparameters.epochs`, `thresholds.cat`), else null."
          }
        },
        "required": [
          "message",
          "type",
          "code",
          "param"
        ]
      },
      "DatasetRejection": {
        "type": "object",
        "description": "The 422 for a refused dataset upload: the error shape (`code: invalid_dataset`, `param`: the first problem's field or file) plus every problem found.",
        "properties": {
          "error": {
            "allOf": [
              {
                "$ref": "#/components/schemas/ErrorDetail"
              },
              {
                "type": "object",
                "properties": {
                  "problems": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/DatasetProblem"
                    },
                    "description": "Every problem found (up to a limit), each with its file, line and field."
                  },
                  "total_problems": {
                    "type": "integer",
                    "description": "How many problems there are in all, including those not listed.",
                    "minimum": 0
                  }
                },
                "required": [
                  "problems",
                  "total_problems"
                ]
              }
            ]
          }
        },
        "required": [
          "error"
        ]
      },
      "DatasetProblem": {
        "type": "object",
        "properties": {
          "file": {
            "type": "string",
            "description": "File the problem is in, relative to the dataset root (`manifest.jsonl`, `classes.txt`, an image path, or the archive's name); absent when it concerns the dataset as a whole."
          },
          "line": {
            "type": "integer",
            "description": "1-based line number in `file`.",
            "minimum": 1
          },
          "field": {
            "type": "string",
            "description": "The field at fault (`image`, `labels[2]`, `caption`, a class name)."
          },
          "message": {
            "type": "string"
          }
        },
        "required": [
          "message"
        ]
      },
      "Status": {
        "type": "object",
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ok",
              "ready"
            ]
          }
        },
        "required": [
          "status"
        ]
      },
      "Limits": {
        "type": "object",
        "description": "The request limits from configuration (`limits.*`).",
        "properties": {
          "max_body_bytes": {
            "type": "integer",
            "minimum": 1
          },
          "max_image_pixels": {
            "type": "integer",
            "minimum": 1
          },
          "max_images_per_request": {
            "type": "integer",
            "minimum": 1
          },
          "max_concurrent_requests": {
            "type": "integer",
            "minimum": 1
          },
          "request_timeout_seconds": {
            "type": "number",
            "exclusiveMinimum": 0
          }
        },
        "required": [
          "max_body_bytes",
          "max_image_pixels",
          "max_images_per_request",
          "max_concurrent_requests",
          "request_timeout_seconds"
        ]
      },
      "Batching": {
        "type": "object",
        "description": "How concurrent tagging requests share the encoder (`batching.*`).",
        "properties": {
          "max_batch_size": {
            "type": "integer",
            "minimum": 1
          },
          "max_wait_ms": {
            "type": "number",
            "minimum": 0
          },
          "max_queue": {
            "type": "integer",
            "minimum": 1
          }
        },
        "required": [
          "max_batch_size",
          "max_wait_ms",
          "max_queue"
        ]
      },
      "DefaultModelInfo": {
        "type": "object",
        "description": "The default model, reported without loading anything.",
        "properties": {
          "id": {
            "type": "string"
          },
          "weights_sha256": {
            "type": [
              "string",
              "null"
            ]
          },
          "dtype": {
            "type": [
              "string",
              "null"
            ]
          },
          "image_size": {
            "type": [
              "integer",
              "null"
            ]
          },
          "loaded": {
            "type": "boolean"
          },
          "prompt_set": {
            "type": [
              "string",
              "null"
            ],
            "description": "The model's default prompt set."
          }
        },
        "required": [
          "id",
          "weights_sha256",
          "dtype",
          "image_size",
          "loaded",
          "prompt_set"
        ]
      },
      "Info": {
        "type": "object",
        "description": "What this server is: build, limits, batching, the default model (absent while there is none).",
        "properties": {
          "name": {
            "type": "string",
            "const": "tagtune"
          },
          "version": {
            "type": "string"
          },
          "build": {
            "type": "object",
            "properties": {
              "configuration": {
                "type": "string",
                "enum": [
                  "debug",
                  "release"
                ]
              },
              "compiler": {
                "type": "string"
              },
              "blas": {
                "type": "string",
                "description": "The BLAS library and its kernel."
              },
              "blas_threads": {
                "type": "integer",
                "minimum": 1
              }
            },
            "required": [
              "configuration",
              "compiler",
              "blas",
              "blas_threads"
            ]
          },
          "ready": {
            "type": "boolean"
          },
          "limits": {
            "$ref": "#/components/schemas/Limits"
          },
          "batching": {
            "$ref": "#/components/schemas/Batching"
          },
          "model": {
            "$ref": "#/components/schemas/DefaultModelInfo"
          },
          "auth_required": {
            "type": "boolean",
            "description": "Whether mutating /v1 routes need an API key."
          }
        },
        "required": [
          "name",
          "version",
          "build",
          "ready",
          "limits",
          "batching",
          "auth_required"
        ]
      },
      "Model": {
        "type": "object",
        "description": "An encoder checkpoint in the models folder.",
        "properties": {
          "id": {
            "type": "string",
            "description": "The folder's name in `models.dir`."
          },
          "object": {
            "const": "model"
          },
          "layout": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "huggingface",
              "open_clip",
              null
            ]
          },
          "dtype": {
            "type": [
              "string",
              "null"
            ]
          },
          "image_size": {
            "type": [
              "integer",
              "null"
            ]
          },
          "projection_dim": {
            "type": [
              "integer",
              "null"
            ]
          },
          "weights_sha256": {
            "type": [
              "string",
              "null"
            ]
          },
          "loaded": {
            "type": "boolean",
            "description": "Whether the encoder is in memory."
          },
          "default": {
            "type": "boolean",
            "description": "Whether it is the default model."
          },
          "default_prompt_set": {
            "type": [
              "string",
              "null"
            ]
          },
          "prompt_sets": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "Prompt sets bound to its weights."
          },
          "error": {
            "type": [
              "string",
              "null"
            ],
            "description": "Why the folder cannot be served, when it cannot."
          }
        },
        "required": [
          "id",
          "object",
          "layout",
          "dtype",
          "image_size",
          "projection_dim",
          "weights_sha256",
          "loaded",
          "default",
          "default_prompt_set",
          "prompt_sets",
          "error"
        ]
      },
      "ModelList": {
        "type": "object",
        "properties": {
          "object": {
            "const": "list"
          },
          "data": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Model"
            }
          }
        },
        "required": [
          "object",
          "data"
        ]
      },
      "PromptSet": {
        "type": "object",
        "description": "A tuned prompt set: its encoder binding, classes with thresholds, how it was made and scored.",
        "properties": {
          "id": {
            "type": "string"
          },
          "object": {
            "const": "prompt_set"
          },
          "model": {
            "type": [
              "string",
              "null"
            ],
            "description": "The model it is bound to (the encoder folder with its weights); null when none has them."
          },
          "encoder": {
            "type": [
              "object",
              "null"
            ],
            "properties": {
              "name": {
                "type": "string"
              },
              "weights_sha256": {
                "type": "string"
              }
            },
            "required": [
              "name",
              "weights_sha256"
            ]
          },
          "method": {
            "type": [
              "string",
              "null"
            ]
          },
          "classes": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "name": {
                  "type": "string"
                },
                "threshold": {
                  "type": "number",
                  "description": "Decision threshold on the score, in [0, 1].",
                  "minimum": 0,
                  "maximum": 1
                },
                "training_count": {
                  "type": "integer",
                  "minimum": 0
                },
                "group": {
                  "type": "string",
                  "enum": [
                    "head",
                    "medium",
                    "tail"
                  ]
                },
                "calibrated": {
                  "type": "boolean",
                  "description": "Whether its score offset was calibrated on its own validation positives."
                }
              },
              "required": [
                "name",
                "threshold"
              ]
            }
          },
          "n_ctx": {
            "type": [
              "integer",
              "null"
            ]
          },
          "class_specific": {
            "type": [
              "boolean",
              "null"
            ]
          },
          "created_at": {
            "type": [
              "integer",
              "null"
            ],
            "description": "Unix seconds."
          },
          "metrics": {
            "type": [
              "object",
              "null"
            ],
            "description": "Validation metrics, in percent.",
            "properties": {
              "map": {
                "type": "number"
              },
              "head_map": {
                "type": "number"
              },
              "medium_map": {
                "type": "number"
              },
              "tail_map": {
                "type": "number"
              },
              "cf1": {
                "type": "number"
              },
              "of1": {
                "type": "number"
              },
              "per_class": {
                "type": "array",
                "description": "Average precision per class on the validation images.",
                "items": {
                  "type": "object",
                  "properties": {
                    "class": {
                      "type": "string"
                    },
                    "ap": {
                      "type": [
                        "number",
                        "null"
                      ],
                      "description": "Null without validation positives."
                    },
                    "group": {
                      "type": "string",
                      "enum": [
                        "head",
                        "medium",
                        "tail"
                      ]
                    },
                    "count": {
                      "type": "integer",
                      "description": "Training images of the class."
                    },
                    "positives": {
                      "type": "integer",
                      "description": "Validation images of the class."
                    }
                  },
                  "required": [
                    "class",
                    "ap",
                    "group",
                    "count",
                    "positives"
                  ]
                }
              },
              "zero_shot": {
                "type": "object",
                "description": "The frozen model with \"a photo of a {class}.\" on the same validation images (absent in prompt sets made before it was recorded).",
                "properties": {
                  "map": {
                    "type": "number"
                  },
                  "head_map": {
                    "type": "number"
                  },
                  "medium_map": {
                    "type": "number"
                  },
                  "tail_map": {
                    "type": "number"
                  },
                  "per_class": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "class": {
                          "type": "string"
                        },
                        "ap": {
                          "type": [
                            "number",
                            "null"
                          ],
                          "description": "Null without validation positives."
                        },
                        "group": {
                          "type": "string",
                          "enum": [
                            "head",
                            "medium",
                            "tail"
                          ]
                        },
                        "count": {
                          "type": "integer",
                          "description": "Training images of the class."
                        },
                        "positives": {
                          "type": "integer",
                          "description": "Validation images of the class."
                        }
                      },
                      "required": [
                        "class",
                        "ap",
                        "group",
                        "count",
                        "positives"
                      ]
                    }
                  }
                },
                "required": [
                  "map",
                  "per_class"
                ]
              }
            },
            "required": [
              "map",
              "cf1",
              "of1",
              "per_class"
            ]
          },
          "default": {
            "type": "boolean",
            "description": "Whether it is its model's default prompt set."
          },
          "error": {
            "type": [
              "string",
              "null"
            ],
            "description": "Why it cannot be used, when it cannot."
          }
        },
        "required": [
          "id",
          "object",
          "model",
          "encoder",
          "method",
          "classes",
          "n_ctx",
          "class_specific",
          "created_at",
          "metrics",
          "default",
          "error"
        ]
      },
      "PromptSetList": {
        "type": "object",
        "properties": {
          "object": {
            "const": "list"
          },
          "data": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/PromptSet"
            }
          }
        },
        "required": [
          "object",
          "data"
        ]
      },
      "PromptSetPatch": {
        "type": "object",
        "description": "At least one of `thresholds` and `default`; checked whole before anything is written.",
        "properties": {
          "thresholds": {
            "type": "object",
            "description": "New thresholds by class name, each in [0, 1].",
            "additionalProperties": {
              "type": "number",
              "minimum": 0,
              "maximum": 1
            },
            "minProperties": 1
          },
          "default": {
            "const": true,
            "description": "Make it its model's default prompt set."
          }
        },
        "required": [],
        "minProperties": 1,
        "additionalProperties": false
      },
      "TagJSONRequest": {
        "type": "object",
        "description": "Images as base64 (bare or a data URL) and the options, all in the body; `prompt_set` and `classes` not together.",
        "properties": {
          "prompt_set": {
            "type": "string",
            "description": "Prompt set to score with (default: the model's default prompt set).",
            "minLength": 1,
            "pattern": "\\S"
          },
          "model": {
            "type": "string",
            "description": "Model to encode with (default: `models.default`).",
            "minLength": 1,
            "pattern": "\\S"
          },
          "classes": {
            "type": "array",
            "items": {
              "type": "string",
              "maxLength": 200,
              "minLength": 1,
              "pattern": "\\S"
            },
            "minItems": 1,
            "maxItems": 256,
            "uniqueItems": true,
            "description": "Zero-shot classes instead of a prompt set (\"a photo of a {class}.\"); not together with `prompt_set`."
          },
          "top_k": {
            "type": "integer",
            "description": "Return only the k highest-scoring labels.",
            "minimum": 1
          },
          "threshold": {
            "type": "number",
            "description": "One decision threshold for every class instead of the prompt set's own.",
            "minimum": 0,
            "maximum": 1
          },
          "images": {
            "type": "array",
            "minItems": 1,
            "items": {
              "type": "object",
              "properties": {
                "base64": {
                  "type": "string",
                  "description": "The image's bytes (JPEG or PNG), base64; a `data:` URL is accepted."
                }
              },
              "required": [
                "base64"
              ],
              "additionalProperties": false
            }
          }
        },
        "required": [
          "images"
        ],
        "additionalProperties": false,
        "not": {
          "required": [
            "prompt_set",
            "classes"
          ]
        }
      },
      "TagLabel": {
        "type": "object",
        "properties": {
          "label": {
            "type": "string"
          },
          "score": {
            "type": "number",
            "description": "sigmoid(z − θ) for a prompt set (0.5 is the class's calibrated decision point); softmax over the classes for zero-shot."
          },
          "threshold": {
            "type": "number"
          },
          "present": {
            "type": "boolean",
            "description": "score ≥ threshold."
          },
          "logit": {
            "type": "number",
            "description": "s·cos(image, class); zero-shot labels only."
          }
        },
        "required": [
          "label",
          "score",
          "threshold",
          "present"
        ]
      },
      "TagResult": {
        "type": "object",
        "description": "Labels per image, the model and prompt set that made them, and timings.",
        "properties": {
          "object": {
            "const": "tag_result"
          },
          "model": {
            "type": "string"
          },
          "weights_sha256": {
            "type": "string"
          },
          "prompt_set": {
            "type": [
              "string",
              "null"
            ],
            "description": "The prompt set used; null for zero-shot classes."
          },
          "mode": {
            "type": "string",
            "enum": [
              "prompt_set",
              "zero_shot"
            ]
          },
          "results": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "index": {
                  "type": "integer",
                  "minimum": 0
                },
                "filename": {
                  "type": "string",
                  "description": "The part's file name (multipart only)."
                },
                "width": {
                  "type": "integer"
                },
                "height": {
                  "type": "integer"
                },
                "labels": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/TagLabel"
                  },
                  "description": "Highest score first."
                },
                "timings": {
                  "type": "object",
                  "properties": {
                    "decode_ms": {
                      "type": "number"
                    },
                    "queue_ms": {
                      "type": "number"
                    },
                    "inference_ms": {
                      "type": "number"
                    },
                    "batch_size": {
                      "type": "integer",
                      "minimum": 1
                    }
                  },
                  "required": [
                    "decode_ms",
                    "queue_ms",
                    "inference_ms",
                    "batch_size"
                  ]
                }
              },
              "required": [
                "index",
                "width",
                "height",
                "labels",
                "timings"
              ]
            }
          },
          "timings": {
            "type": "object",
            "description": "For the whole request: decoding summed, queue and inference the longest of its images.",
            "properties": {
              "decode_ms": {
                "type": "number"
              },
              "queue_ms": {
                "type": "number"
              },
              "inference_ms": {
                "type": "number"
              },
              "total_ms": {
                "type": "number"
              }
            },
            "required": [
              "decode_ms",
              "queue_ms",
              "inference_ms",
              "total_ms"
            ]
          }
        },
        "required": [
          "object",
          "model",
          "weights_sha256",
          "prompt_set",
          "mode",
          "results",
          "timings"
        ]
      },
      "Dataset": {
        "type": "object",
        "description": "An accepted dataset: sizes, each class's count and head/medium/tail group, warnings. In lists only the summary: `classes` and `warnings` are on `GET /v1/datasets/{id}`.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^ds-"
          },
          "object": {
            "const": "dataset"
          },
          "name": {
            "type": "string"
          },
          "created_at": {
            "type": "integer",
            "description": "Unix seconds."
          },
          "images": {
            "type": "integer",
            "minimum": 0
          },
          "captioned_images": {
            "type": "integer",
            "minimum": 0
          },
          "labels": {
            "type": "integer",
            "minimum": 0
          },
          "class_count": {
            "type": "integer",
            "minimum": 0
          },
          "warning_count": {
            "type": "integer",
            "minimum": 0
          },
          "classes": {
            "type": "array",
            "description": "Not in lists.",
            "items": {
              "type": "object",
              "properties": {
                "name": {
                  "type": "string"
                },
                "count": {
                  "type": "integer",
                  "minimum": 0
                },
                "group": {
                  "type": "string",
                  "enum": [
                    "head",
                    "medium",
                    "tail"
                  ]
                }
              },
              "required": [
                "name",
                "count",
                "group"
              ]
            }
          },
          "groups": {
            "type": "object",
            "properties": {
              "head": {
                "type": "integer",
                "minimum": 0
              },
              "medium": {
                "type": "integer",
                "minimum": 0
              },
              "tail": {
                "type": "integer",
                "minimum": 0
              }
            },
            "required": [
              "head",
              "medium",
              "tail"
            ]
          },
          "group_bounds": {
            "type": "object",
            "properties": {
              "head_minimum": {
                "type": "integer",
                "description": "Fewest images of a head class."
              },
              "medium_minimum": {
                "type": "integer",
                "description": "Fewer than this make a tail class."
              }
            },
            "required": [
              "head_minimum",
              "medium_minimum"
            ]
          },
          "warnings": {
            "type": "array",
            "description": "Not in lists.",
            "items": {
              "$ref": "#/components/schemas/DatasetProblem"
            }
          }
        },
        "required": [
          "id",
          "object",
          "name",
          "created_at",
          "images",
          "captioned_images",
          "labels",
          "class_count",
          "groups",
          "group_bounds",
          "warning_count"
        ]
      },
      "DatasetList": {
        "type": "object",
        "description": "Datasets, newest first.",
        "properties": {
          "object": {
            "const": "list"
          },
          "data": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Dataset"
            }
          },
          "has_more": {
            "type": "boolean",
            "description": "Whether older items follow: pass the last item's id as `after`."
          }
        },
        "required": [
          "object",
          "data",
          "has_more"
        ]
      },
      "DeletedDataset": {
        "type": "object",
        "properties": {
          "id": {
            "type": "string"
          },
          "object": {
            "const": "dataset"
          },
          "deleted": {
            "const": true
          }
        },
        "required": [
          "id",
          "object",
          "deleted"
        ]
      },
      "Hyperparameters": {
        "type": "object",
        "description": "Every hyper-parameter of the job, resolved (`ctx_init` only when set; `fixed` only for `auto`: the names the request set, which the search leaves alone).",
        "properties": {
          "method": {
            "type": "string",
            "enum": [
              "auto",
              "lmpt",
              "coop"
            ]
          },
          "epochs": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000
          },
          "batch_size": {
            "type": "integer",
            "minimum": 1,
            "maximum": 4096
          },
          "learning_rate": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 10
          },
          "optimizer": {
            "type": "string",
            "enum": [
              "sgd",
              "adamw"
            ]
          },
          "momentum": {
            "type": "number",
            "minimum": 0,
            "exclusiveMaximum": 1
          },
          "weight_decay": {
            "type": "number",
            "minimum": 0,
            "exclusiveMaximum": 1
          },
          "schedule": {
            "type": "string",
            "enum": [
              "constant",
              "cosine",
              "plateau"
            ]
          },
          "patience": {
            "type": "integer",
            "minimum": 0
          },
          "early_stop_patience": {
            "type": "integer",
            "description": "Stop after this many epochs without a better selection score (0: never).",
            "minimum": 0
          },
          "n_ctx": {
            "type": "integer",
            "description": "Context vectors per prompt (M).",
            "minimum": 1,
            "maximum": 64
          },
          "class_position": {
            "type": "string",
            "enum": [
              "end",
              "middle",
              "front"
            ]
          },
          "ctx_init": {
            "type": "string",
            "description": "Initialise the contexts from these words' embeddings.",
            "minLength": 1,
            "maxLength": 200
          },
          "lambda": {
            "type": "number",
            "description": "λ in λ·L_cls + (1 − λ)·β·L_cse.",
            "minimum": 0,
            "maximum": 1
          },
          "loss": {
            "type": "string",
            "enum": [
              "dbl",
              "bce",
              "focal",
              "asl"
            ]
          },
          "dbl_mu": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 10
          },
          "dbl_lambda_neg": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 100
          },
          "cse_margin": {
            "type": "number",
            "minimum": 0,
            "maximum": 2
          },
          "cse": {
            "type": "string",
            "enum": [
              "feature",
              "token"
            ]
          },
          "seed": {
            "type": "integer",
            "minimum": 0
          },
          "context": {
            "type": "string",
            "enum": [
              "generic",
              "class_specific",
              "hybrid"
            ],
            "description": "Shared context (CoOp), one per class (LMPT), or a shared context plus a per-class residual that starts at zero."
          },
          "cse_weight": {
            "type": "number",
            "minimum": 0,
            "maximum": 1000000,
            "description": "β in λ·L_cls + (1 − λ)·β·L_cse."
          },
          "cse_reduction": {
            "type": "string",
            "enum": [
              "class_sum",
              "official"
            ],
            "description": "class_sum: class weights with mean 1 summed over classes (default); official: the official code's mean over images × classes with weights summing to 1 (C² smaller)."
          },
          "prior_weight": {
            "type": "number",
            "minimum": 0,
            "maximum": 10000,
            "description": "κ, the pull of each class feature towards its hand-written prompt's (KgCoOp); 0: off."
          },
          "zero_shot_weight": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "α of the served class features normalise((1 − α)·t̂ + α·ẑ), their blend with the hand-written prompt's; auto: chosen with the score normalisation on the held-out scores from 0, 0.25, 0.5, 0.75 and 1 (absent until chosen); lmpt and coop: 0."
          },
          "folds": {
            "type": "integer",
            "minimum": 2,
            "maximum": 10,
            "description": "k of the stratified k-fold that scores settings and epochs when no validation dataset is given."
          },
          "budget_minutes": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1440,
            "description": "auto: the search's time budget (the final training comes on top)."
          },
          "fixed": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        },
        "required": [
          "method",
          "epochs",
          "batch_size",
          "learning_rate",
          "optimizer",
          "momentum",
          "weight_decay",
          "schedule",
          "patience",
          "early_stop_patience",
          "n_ctx",
          "class_position",
          "lambda",
          "loss",
          "dbl_mu",
          "dbl_lambda_neg",
          "cse_margin",
          "cse",
          "seed",
          "context",
          "cse_weight",
          "cse_reduction",
          "prior_weight",
          "folds",
          "budget_minutes"
        ]
      },
      "HyperparametersRequest": {
        "type": "object",
        "additionalProperties": false,
        "description": "Each a value of its type or \"auto\" (the method's default; with `method: auto`, searched). Settings given are not searched.",
        "properties": {
          "epochs": {
            "anyOf": [
              {
                "type": "integer",
                "minimum": 1,
                "maximum": 1000
              },
              {
                "const": "auto"
              }
            ]
          },
          "batch_size": {
            "anyOf": [
              {
                "type": "integer",
                "minimum": 1,
                "maximum": 4096
              },
              {
                "const": "auto"
              }
            ]
          },
          "learning_rate": {
            "anyOf": [
              {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 10
              },
              {
                "const": "auto"
              }
            ]
          },
          "optimizer": {
            "anyOf": [
              {
                "type": "string",
                "enum": [
                  "sgd",
                  "adamw"
                ]
              },
              {
                "const": "auto"
              }
            ]
          },
          "momentum": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "exclusiveMaximum": 1
              },
              {
                "const": "auto"
              }
            ]
          },
          "weight_decay": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "exclusiveMaximum": 1
              },
              {
                "const": "auto"
              }
            ]
          },
          "schedule": {
            "anyOf": [
              {
                "type": "string",
                "enum": [
                  "constant",
                  "cosine",
                  "plateau"
                ]
              },
              {
                "const": "auto"
              }
            ]
          },
          "patience": {
            "anyOf": [
              {
                "type": "integer",
                "minimum": 0
              },
              {
                "const": "auto"
              }
            ]
          },
          "early_stop_patience": {
            "anyOf": [
              {
                "type": "integer",
                "description": "Stop after this many epochs without a better validation mAP (0: never).",
                "minimum": 0
              },
              {
                "const": "auto"
              }
            ]
          },
          "n_ctx": {
            "anyOf": [
              {
                "type": "integer",
                "description": "Context vectors per prompt (M).",
                "minimum": 1,
                "maximum": 64
              },
              {
                "const": "auto"
              }
            ]
          },
          "class_specific": {
            "anyOf": [
              {
                "type": "boolean",
                "description": "Per-class contexts (LMPT's default) or shared ones (CoOp's)."
              },
              {
                "const": "auto"
              }
            ]
          },
          "class_position": {
            "anyOf": [
              {
                "type": "string",
                "enum": [
                  "end",
                  "middle",
                  "front"
                ]
              },
              {
                "const": "auto"
              }
            ]
          },
          "ctx_init": {
            "anyOf": [
              {
                "type": "string",
                "description": "Initialise the contexts from these words' embeddings.",
                "minLength": 1,
                "maxLength": 200
              },
              {
                "const": "auto"
              }
            ]
          },
          "lambda": {
            "anyOf": [
              {
                "type": "number",
                "description": "λ in λ·L_cls + (1 − λ)·L_cse.",
                "minimum": 0,
                "maximum": 1
              },
              {
                "const": "auto"
              }
            ]
          },
          "loss": {
            "anyOf": [
              {
                "type": "string",
                "enum": [
                  "dbl",
                  "bce",
                  "focal",
                  "asl"
                ]
              },
              {
                "const": "auto"
              }
            ]
          },
          "dbl_mu": {
            "anyOf": [
              {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 10
              },
              {
                "const": "auto"
              }
            ]
          },
          "dbl_lambda_neg": {
            "anyOf": [
              {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 100
              },
              {
                "const": "auto"
              }
            ]
          },
          "cse_margin": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "maximum": 2
              },
              {
                "const": "auto"
              }
            ]
          },
          "cse": {
            "anyOf": [
              {
                "type": "string",
                "enum": [
                  "feature",
                  "token"
                ]
              },
              {
                "const": "auto"
              }
            ]
          },
          "context": {
            "anyOf": [
              {
                "type": "string",
                "enum": [
                  "generic",
                  "class_specific",
                  "hybrid"
                ]
              },
              {
                "const": "auto"
              }
            ],
            "description": "Shared context (CoOp), one per class (LMPT), or a shared context plus a per-class residual that starts at zero."
          },
          "cse_weight": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "maximum": 1000000
              },
              {
                "const": "auto"
              }
            ],
            "description": "β in λ·L_cls + (1 − λ)·β·L_cse."
          },
          "cse_reduction": {
            "anyOf": [
              {
                "type": "string",
                "enum": [
                  "class_sum",
                  "official"
                ]
              },
              {
                "const": "auto"
              }
            ],
            "description": "class_sum: class weights with mean 1 summed over classes (default); official: the official code's mean over images × classes with weights summing to 1 (C² smaller)."
          },
          "prior_weight": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "maximum": 10000
              },
              {
                "const": "auto"
              }
            ],
            "description": "κ, the pull of each class feature towards its hand-written prompt's (KgCoOp); 0: off."
          },
          "zero_shot_weight": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "maximum": 1
              },
              {
                "const": "auto"
              }
            ],
            "description": "α of the served class features normalise((1 − α)·t̂ + α·ẑ), their blend with the hand-written prompt's; auto: chosen with the score normalisation on the held-out scores from 0, 0.25, 0.5, 0.75 and 1 (absent until chosen); lmpt and coop: 0."
          },
          "folds": {
            "anyOf": [
              {
                "type": "integer",
                "minimum": 2,
                "maximum": 10
              },
              {
                "const": "auto"
              }
            ],
            "description": "k of the stratified k-fold that scores settings and epochs when no validation dataset is given."
          },
          "budget_minutes": {
            "anyOf": [
              {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 1440
              },
              {
                "const": "auto"
              }
            ],
            "description": "auto: the search's time budget (the final training comes on top)."
          }
        }
      },
      "CreateTuningJobRequest": {
        "type": "object",
        "properties": {
          "model": {
            "type": "string",
            "description": "An encoder folder's name in `models.dir` (a name, not a path).",
            "minLength": 1,
            "maxLength": 200,
            "pattern": "^[^./\\\\\\x00][^/\\\\\\x00]*$"
          },
          "dataset": {
            "type": "string",
            "description": "The training dataset's id.",
            "minLength": 1,
            "maxLength": 200
          },
          "validation_dataset": {
            "type": [
              "string",
              "null"
            ],
            "description": "A dataset to select settings and epochs on; else stratified k-fold on the training images.",
            "minLength": 1,
            "maxLength": 200
          },
          "method": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "auto",
              "lmpt",
              "coop",
              null
            ],
            "default": "auto"
          },
          "hyperparameters": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/HyperparametersRequest"
              },
              {
                "type": "null"
              }
            ]
          },
          "seed": {
            "type": [
              "integer",
              "null"
            ],
            "description": "Chosen at random and recorded when not given.",
            "minimum": 0,
            "maximum": 9007199254740991
          },
          "suffix": {
            "type": [
              "string",
              "null"
            ],
            "description": "Goes into the prompt set's id (`ps-<suffix>-…`).",
            "maxLength": 40,
            "pattern": "^[A-Za-z0-9_-]+$"
          }
        },
        "required": [
          "model",
          "dataset"
        ],
        "additionalProperties": false
      },
      "JobStatus": {
        "type": "string",
        "enum": [
          "validating_files",
          "queued",
          "running",
          "succeeded",
          "failed",
          "cancelled"
        ]
      },
      "JobMetrics": {
        "type": "object",
        "description": "Validation metrics of the finished prompt set, in percent (a group's mAP is null when the group is empty).",
        "properties": {
          "validation_map": {
            "type": "number"
          },
          "validation_head_map": {
            "type": [
              "number",
              "null"
            ]
          },
          "validation_medium_map": {
            "type": [
              "number",
              "null"
            ]
          },
          "validation_tail_map": {
            "type": [
              "number",
              "null"
            ]
          },
          "validation_cf1": {
            "type": "number"
          },
          "validation_of1": {
            "type": "number"
          },
          "validation_images": {
            "type": "integer",
            "minimum": 0
          }
        },
        "required": [
          "validation_map",
          "validation_head_map",
          "validation_medium_map",
          "validation_tail_map",
          "validation_cf1",
          "validation_of1",
          "validation_images"
        ]
      },
      "TuningJob": {
        "type": "object",
        "description": "A tuning job, shaped like OpenAI's fine-tuning job object; absent values are null.",
        "properties": {
          "id": {
            "type": "string",
            "pattern": "^ftjob-"
          },
          "object": {
            "const": "tuning.job"
          },
          "status": {
            "$ref": "#/components/schemas/JobStatus"
          },
          "created_at": {
            "type": "integer",
            "description": "Unix seconds."
          },
          "started_at": {
            "type": [
              "integer",
              "null"
            ]
          },
          "finished_at": {
            "type": [
              "integer",
              "null"
            ]
          },
          "model": {
            "type": "string"
          },
          "method": {
            "type": "string",
            "enum": [
              "auto",
              "lmpt",
              "coop"
            ]
          },
          "dataset": {
            "type": "string"
          },
          "validation_dataset": {
            "type": [
              "string",
              "null"
            ]
          },
          "hyperparameters": {
            "$ref": "#/components/schemas/Hyperparameters"
          },
          "seed": {
            "type": "integer",
            "minimum": 0
          },
          "suffix": {
            "type": [
              "string",
              "null"
            ]
          },
          "progress": {
            "type": "object",
            "properties": {
              "epoch": {
                "type": "integer",
                "minimum": 0
              },
              "epochs": {
                "type": "integer",
                "minimum": 0,
                "description": "Epochs of the final training on all training images, as the selection chose them (0: the starting prompt ships)."
              },
              "step": {
                "type": "integer",
                "description": "Steps done over the whole job.",
                "minimum": 0
              },
              "steps": {
                "type": "integer",
                "description": "Steps in all (0 until known).",
                "minimum": 0
              },
              "eta_seconds": {
                "type": [
                  "number",
                  "null"
                ],
                "minimum": 0
              }
            },
            "required": [
              "epoch",
              "epochs",
              "step",
              "steps",
              "eta_seconds"
            ]
          },
          "metrics": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/JobMetrics"
              },
              {
                "type": "null"
              }
            ]
          },
          "prompt_set": {
            "type": [
              "string",
              "null"
            ],
            "description": "The finished prompt set's id."
          },
          "error": {
            "type": [
              "object",
              "null"
            ],
            "properties": {
              "code": {
                "type": "string"
              },
              "message": {
                "type": "string"
              },
              "param": {
                "type": [
                  "string",
                  "null"
                ]
              }
            },
            "required": [
              "code",
              "message",
              "param"
            ]
          },
          "cancel_requested": {
            "type": "boolean"
          }
        },
        "required": [
          "id",
          "object",
          "status",
          "created_at",
          "started_at",
          "finished_at",
          "model",
          "method",
          "dataset",
          "validation_dataset",
          "hyperparameters",
          "seed",
          "suffix",
          "progress",
          "metrics",
          "prompt_set",
          "error",
          "cancel_requested"
        ]
      },
      "TuningJobList": {
        "type": "object",
        "description": "Jobs, newest first.",
        "properties": {
          "object": {
            "const": "list"
          },
          "data": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/TuningJob"
            }
          },
          "has_more": {
            "type": "boolean",
            "description": "Whether older items follow: pass the last item's id as `after`."
          }
        },
        "required": [
          "object",
          "data",
          "has_more"
        ]
      },
      "TuningJobEvent": {
        "type": "object",
        "properties": {
          "id": {
            "type": "string"
          },
          "object": {
            "const": "tuning.job.event"
          },
          "created_at": {
            "type": "integer",
            "description": "Unix seconds."
          },
          "level": {
            "type": "string",
            "enum": [
              "info",
              "warn",
              "error"
            ]
          },
          "type": {
            "type": "string",
            "enum": [
              "message",
              "metrics"
            ]
          },
          "message": {
            "type": "string"
          },
          "data": {
            "type": [
              "object",
              "null"
            ],
            "description": "`type: metrics` rows: where training is, its losses and learning rate; `validation_map` at the end of an epoch.",
            "properties": {
              "epoch": {
                "type": "integer"
              },
              "epochs": {
                "type": "integer"
              },
              "step": {
                "type": "integer"
              },
              "steps": {
                "type": "integer"
              },
              "loss": {
                "type": "number"
              },
              "classification_loss": {
                "type": "number"
              },
              "embedding_loss": {
                "type": "number"
              },
              "learning_rate": {
                "type": "number"
              },
              "validation_map": {
                "type": "number"
              },
              "elapsed_seconds": {
                "type": "number"
              },
              "gradient_ratio": {
                "type": "number",
                "description": "‖∇L_cse‖ / ‖∇L_cls‖ on the class features: near 0 when the embedding loss is dead."
              },
              "prior_loss": {
                "type": "number"
              },
              "candidate": {
                "type": "integer",
                "description": "A scored setting's index (0-based): its selection score and group mAPs follow."
              },
              "selection_score": {
                "type": "number",
                "description": "Mean of the head, medium and tail mAPs on held-out images."
              },
              "head_map": {
                "type": [
                  "number",
                  "null"
                ]
              },
              "medium_map": {
                "type": [
                  "number",
                  "null"
                ]
              },
              "tail_map": {
                "type": [
                  "number",
                  "null"
                ]
              }
            },
            "required": []
          }
        },
        "required": [
          "id",
          "object",
          "created_at",
          "level",
          "type",
          "message",
          "data"
        ]
      },
      "TuningJobEventList": {
        "type": "object",
        "description": "A job's events, newest first.",
        "properties": {
          "object": {
            "const": "list"
          },
          "data": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/TuningJobEvent"
            }
          },
          "has_more": {
            "type": "boolean",
            "description": "Whether older items follow: pass the last item's id as `after`."
          }
        },
        "required": [
          "object",
          "data",
          "has_more"
        ]
      }
    },
    "responses": {
      "BadRequest": {
        "description": "Malformed JSON or multipart body.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "API keys are configured and the request has none, or a wrong one.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "headers": {
          "WWW-Authenticate": {
            "description": "`Bearer realm=\"tagtune\"`, with `error=` when a key was sent.",
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "NotFound": {
        "description": "No such resource (its `code` says which: `model_not_found`, `dataset_not_found`, `cursor_not_found`, …).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Conflict": {
        "description": "The request conflicts with the resource's state.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "ContentTooLarge": {
        "description": "The body is over its limit (`limits.max_body_bytes`, `datasets.max_upload_bytes`, images or pixels).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "UnsupportedMediaType": {
        "description": "The Content-Type (or an image's format) is not accepted here.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "UnprocessableContent": {
        "description": "A field is missing, of the wrong type or out of range; `param` names it.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooManyRequests": {
        "description": "Overloaded: more than `limits.max_concurrent_requests` requests in progress (`overloaded`) or the encoder queue is full (`queue_full`).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "headers": {
          "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {
              "type": "integer"
            }
          }
        }
      },
      "ServiceUnavailable": {
        "description": "Not ready, timed out (`timeout`, after `limits.request_timeout_seconds`) or shutting down.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "InternalError": {
        "description": "An unexpected failure; details are in the server log under the response's `X-Request-ID`.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "One of the keys in `auth.api_keys`. Needed on POST, PATCH and DELETE under /v1 only when keys are configured (always in the production configuration)."
      }
    }
  }
}
"""#
}
