export interface paths {
    "/v1/images/generations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create an image task */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Replays the first create's answer for 24 hours */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        model: string;
                        input: {
                            [key: string]: unknown;
                        };
                        callback_url?: string;
                        timeout_seconds?: number;
                    };
                };
            };
            responses: {
                /** @description The task was created and its price held */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                            };
                        };
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description conflict (task already ended, idempotency key reused, delivery pending) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded, spend_limit_exceeded, active_task_limit_exceeded, or capacity_exceeded (no provider can start it before its deadline); Retry-After says when */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable or upstream_error; Retry-After says when to retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/videos/generations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a video task */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Replays the first create's answer for 24 hours */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        model: string;
                        input: {
                            [key: string]: unknown;
                        };
                        callback_url?: string;
                        timeout_seconds?: number;
                    };
                };
            };
            responses: {
                /** @description The task was created and its price held */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                            };
                        };
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description conflict (task already ended, idempotency key reused, delivery pending) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded, spend_limit_exceeded, active_task_limit_exceeded, or capacity_exceeded (no provider can start it before its deadline); Retry-After says when */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable or upstream_error; Retry-After says when to retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List tasks, newest first */
        get: {
            parameters: {
                query?: {
                    /** @description One or more (comma-separated) of pending, processing, completed, failed, queued, submitting, running, succeeded, canceled, expired */
                    status?: string;
                    /** @description One or more model ids, comma-separated */
                    model?: string;
                    /** @description Unix seconds or RFC 3339, inclusive */
                    created_after?: string;
                    /** @description Unix seconds or RFC 3339, exclusive */
                    created_before?: string;
                    batch_id?: string;
                    /** @description One or more (comma-separated) of native, nanobanana, kie, revid */
                    door?: string;
                    /** @description 1–100, default 20 */
                    limit?: string;
                    /** @description `next_cursor` of the previous page */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of tasks */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TaskList"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{taskId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a task (also the body of its callback) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    taskId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            status: "pending" | "processing" | "completed" | "failed";
                            model: string;
                            created_at?: number;
                            completed_at?: number;
                            output?: {
                                urls: string[];
                                /** @default {} */
                                metadata: {
                                    [key: string]: unknown;
                                };
                            };
                            error?: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{taskId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a task and release its hold */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    taskId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The task, failed with task_canceled */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            status: "pending" | "processing" | "completed" | "failed";
                            model: string;
                            created_at?: number;
                            completed_at?: number;
                            output?: {
                                urls: string[];
                                /** @default {} */
                                metadata: {
                                    [key: string]: unknown;
                                };
                            };
                            error?: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description conflict (task already ended, idempotency key reused, delivery pending) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{taskId}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task's attempts and status changes */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    taskId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The history */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TaskHistory"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{taskId}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task's status as server-sent events */
        get: {
            parameters: {
                query?: never;
                header?: {
                    "Last-Event-ID"?: string;
                };
                path: {
                    taskId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description `event: status` per transition; data is the task query body */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": string;
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{taskId}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task's client callbacks and their tries */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    taskId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The deliveries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TaskDeliveries"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tasks/{taskId}/deliveries/redeliver": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a task's latest callback again */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    taskId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The delivery, pending */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Redelivery"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description conflict (task already ended, idempotency key reused, delivery pending) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's credits */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Credits */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                credits: number;
                                balance: number;
                                held: number;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The callback signing secret (created on first use) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The secret */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookSecret"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhook-secret/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate the callback signing secret (the old one signs for 24 h more) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The new secret */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookSecret"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List batches, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: string;
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of batches */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BatchList"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create a batch of up to 10,000 creates */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Replays the first create's answer for 24 hours */
                    "Idempotency-Key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["BatchCreateRequest"];
                };
            };
            responses: {
                /** @description The batch, its items queued */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BatchCreated"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description conflict (task already ended, idempotency key reused, delivery pending) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded, spend_limit_exceeded, active_task_limit_exceeded, or capacity_exceeded (no provider can start it before its deadline); Retry-After says when */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches/{batchId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A batch's counts, credits and progress */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    batchId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The batch */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BatchResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches/{batchId}/results": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A batch's results in submission order */
        get: {
            parameters: {
                query?: {
                    format?: "jsonl" | "csv";
                };
                header?: never;
                path: {
                    batchId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description One line per item */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/x-ndjson": components["schemas"]["BatchResultLine"];
                        "text/csv": string;
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches/{batchId}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A batch's progress as server-sent events */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    batchId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description `event: batch` at once and whenever its counts or state change; data is the batch's (as `GET /v1/batches/{batchId}`). The stream ends after the event showing the batch ended. */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": string;
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable or upstream_error; Retry-After says when to retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/batches/{batchId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a batch's items that have not ended */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    batchId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The batch */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BatchResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/schedules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List schedules */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The schedules */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleList"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create a schedule: a batch on a cron */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["ScheduleCreateRequest"];
                };
            };
            responses: {
                /** @description The schedule */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleResponse"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable or upstream_error; Retry-After says when to retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/schedules/{scheduleId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a schedule */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    scheduleId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The schedule */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete a schedule (its runs and batches stay) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    scheduleId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleDeleted"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable or upstream_error; Retry-After says when to retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change a schedule */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    scheduleId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["SchedulePatchRequest"];
                };
            };
            responses: {
                /** @description The schedule */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleResponse"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable or upstream_error; Retry-After says when to retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/v1/schedules/{scheduleId}/pause": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pause a schedule */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    scheduleId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The schedule */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/schedules/{scheduleId}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Resume a schedule */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    scheduleId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The schedule */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/schedules/{scheduleId}/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A schedule's runs, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: string;
                };
                header?: never;
                path: {
                    scheduleId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The runs */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ScheduleRuns"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every model: parameters, defaults, prices per door, providers */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The models */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ModelsResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/cost": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The price of a create or batch body, without running it */
        post: {
            parameters: {
                query?: {
                    /** @description Price the door's own create body with its price list (nanobanana: a calculate-cost body with `type`). Default: a native create or batch body. */
                    door?: "native" | "nanobanana" | "kie" | "revid";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["CostRequest"];
                };
            };
            responses: {
                /** @description What it would hold */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CostResponse"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description not found (task, model, batch, schedule, delivery) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/images/generate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Generate images */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        prompt: string;
                        /** @enum {string} */
                        mode?: "text" | "image";
                        model?: string;
                        image_url?: string;
                        /** @enum {string} */
                        aspect_ratio?: "1:1" | "3:2" | "2:3" | "3:4" | "4:3" | "4:5" | "5:4" | "9:16" | "16:9" | "21:9";
                        /** @enum {string} */
                        resolution?: "1K" | "2K" | "4K";
                        num_images?: number;
                        /** @enum {string} */
                        quality?: "standard" | "hd";
                        /** @enum {string} */
                        output_format?: "png" | "jpeg";
                    };
                };
            };
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: true;
                            data: {
                                task_id: string;
                                /** @enum {string} */
                                status: "pending" | "processing" | "completed" | "failed";
                                credits_used: number;
                                credits_remaining: number;
                            };
                        };
                    };
                };
                /** @description INVALID_REQUEST / INVALID_MODEL */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description UNAUTHORIZED */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description INSUFFICIENT_CREDITS */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description NOT_FOUND */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description RATE_LIMITED */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description service unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/images/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An image task's status */
        get: {
            parameters: {
                query: {
                    task_id: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: true;
                            data: {
                                task_id: string;
                                progress?: number | null;
                                completed_at?: string | null;
                                error?: (string | {
                                    code?: string;
                                    message?: string;
                                }) | null;
                                error_code?: string | null;
                                /** @enum {string} */
                                status: "pending" | "processing" | "completed" | "failed";
                                image_url?: string | null;
                                image_urls?: string[] | null;
                            };
                        };
                    };
                };
                /** @description INVALID_REQUEST / INVALID_MODEL */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description UNAUTHORIZED */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description INSUFFICIENT_CREDITS */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description NOT_FOUND */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description RATE_LIMITED */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description service unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/videos/generate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Generate a video */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        prompt: string;
                        model_id?: string;
                        /** @enum {string} */
                        aspect_ratio?: "16:9" | "9:16" | "1:1" | "4:3";
                        duration?: number;
                        /** @enum {string} */
                        resolution?: "480p" | "720p" | "1080p";
                        image_url?: string;
                        generate_audio?: boolean;
                        negative_prompt?: string;
                    };
                };
            };
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: true;
                            data: {
                                task_id: string;
                                /** @enum {string} */
                                status: "pending" | "processing" | "succeeded" | "failed";
                                credits_used: number;
                                credits_remaining: number;
                                provider?: string;
                            };
                        };
                    };
                };
                /** @description INVALID_REQUEST / INVALID_MODEL */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description UNAUTHORIZED */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description INSUFFICIENT_CREDITS */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description NOT_FOUND */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description RATE_LIMITED */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description service unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/videos/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A video task's status */
        get: {
            parameters: {
                query: {
                    task_id: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: true;
                            data: {
                                task_id: string;
                                progress?: number | null;
                                completed_at?: string | null;
                                error?: (string | {
                                    code?: string;
                                    message?: string;
                                }) | null;
                                error_code?: string | null;
                                /** @enum {string} */
                                status: "pending" | "processing" | "succeeded" | "failed";
                                video_url?: string | null;
                            };
                        };
                    };
                };
                /** @description INVALID_REQUEST / INVALID_MODEL */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description UNAUTHORIZED */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description INSUFFICIENT_CREDITS */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description NOT_FOUND */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description RATE_LIMITED */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description service unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/account/credits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's credits */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Credits */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: true;
                            data: {
                                credits: number;
                                total_credits: number;
                                subscription: {
                                    plan: string;
                                    end_date?: string | null;
                                } | null;
                                is_vip: boolean;
                            };
                        };
                    };
                };
                /** @description INVALID_REQUEST / INVALID_MODEL */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description UNAUTHORIZED */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description INSUFFICIENT_CREDITS */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description NOT_FOUND */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description RATE_LIMITED */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description service unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/account/calculate-cost": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** The price of a generate request */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        prompt?: string;
                        /** @enum {string} */
                        mode?: "text" | "image";
                        model?: string;
                        image_url?: string;
                        /** @enum {string} */
                        aspect_ratio?: "1:1" | "3:2" | "2:3" | "3:4" | "4:3" | "4:5" | "5:4" | "9:16" | "16:9" | "21:9";
                        /** @enum {string} */
                        resolution?: "1K" | "2K" | "4K";
                        num_images?: number;
                        /** @enum {string} */
                        quality?: "standard" | "hd";
                        /** @enum {string} */
                        output_format?: "png" | "jpeg";
                        /** @constant */
                        type: "image";
                    } | {
                        prompt?: string;
                        model_id?: string;
                        /** @enum {string} */
                        aspect_ratio?: "16:9" | "9:16" | "1:1" | "4:3";
                        duration?: number;
                        /** @enum {string} */
                        resolution?: "480p" | "720p" | "1080p";
                        image_url?: string;
                        generate_audio?: boolean;
                        negative_prompt?: string;
                        /** @constant */
                        type: "video";
                    };
                };
            };
            responses: {
                /** @description The price */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: true;
                            data: {
                                /** @enum {string} */
                                type: "image" | "video";
                                credits_needed: number;
                            };
                        };
                    };
                };
                /** @description INVALID_REQUEST / INVALID_MODEL */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description UNAUTHORIZED */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description INSUFFICIENT_CREDITS */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description NOT_FOUND */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description RATE_LIMITED */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description service unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The door's models */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Models */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: true;
                            data: {
                                image_models: ({
                                    id: string;
                                    name: string;
                                    is_default?: boolean;
                                } & {
                                    [key: string]: unknown;
                                })[];
                                video_models: ({
                                    id: string;
                                    name: string;
                                    is_default?: boolean;
                                } & {
                                    [key: string]: unknown;
                                })[];
                            };
                        };
                    };
                };
                /** @description INVALID_REQUEST / INVALID_MODEL */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description UNAUTHORIZED */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description INSUFFICIENT_CREDITS */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description NOT_FOUND */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description RATE_LIMITED */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
                /** @description service unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            success: false;
                            error: {
                                code: string;
                                message: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/jobs/createTask": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a task */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        model: string;
                        input: {
                            [key: string]: unknown;
                        };
                        callBackUrl?: string;
                    };
                };
            };
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                            };
                        };
                    };
                };
                /** @description bad request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description insufficient credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description active task limit */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description validation error */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description rate limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description server error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/jobs/recordInfo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task's record */
        get: {
            parameters: {
                query: {
                    taskId: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The record */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                                model: string;
                                /** @enum {string} */
                                state: "waiting" | "queuing" | "generating" | "success" | "fail";
                                param: string;
                                resultJson?: string | null;
                                failCode: unknown;
                                failMsg?: string | null;
                                costTime?: number | null;
                                completeTime?: number | null;
                                createTime: number;
                            };
                        };
                    };
                };
                /** @description bad request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description insufficient credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description active task limit */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description validation error */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description rate limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description server error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/paid/nano/banana/create": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a task */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        model: string;
                        input: {
                            [key: string]: unknown;
                        };
                        callBackUrl?: string;
                    };
                };
            };
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                            };
                        };
                    };
                };
                /** @description bad request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description insufficient credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description validation error */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description rate limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description server error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/paid/banana/pro/create": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a task (the usage flow's path) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        model: string;
                        input: {
                            [key: string]: unknown;
                        };
                        callBackUrl?: string;
                    };
                };
            };
            responses: {
                /** @description The task */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                            };
                        };
                    };
                };
                /** @description bad request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description insufficient credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description validation error */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description rate limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description server error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/paid/get/taskid": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A task's record (GET) */
        get: {
            parameters: {
                query: {
                    taskId: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The record (also the callback body) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                                model: string;
                                /** @enum {string} */
                                state: "waiting" | "success" | "fail";
                                param: string;
                                resultJson?: string | null;
                                failCode: unknown;
                                failMsg?: string | null;
                                costTime?: number | null;
                                completeTime?: number | null;
                                createTime: number;
                            };
                        };
                    };
                };
                /** @description bad request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description insufficient credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description validation error */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description rate limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description server error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
            };
        };
        put?: never;
        /** A task's record (POST) */
        post: {
            parameters: {
                query: {
                    taskId: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The record (also the callback body) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                taskId: string;
                                model: string;
                                /** @enum {string} */
                                state: "waiting" | "success" | "fail";
                                param: string;
                                resultJson?: string | null;
                                failCode: unknown;
                                failMsg?: string | null;
                                costTime?: number | null;
                                completeTime?: number | null;
                                createTime: number;
                            };
                        };
                    };
                };
                /** @description bad request */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description unauthorized */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description insufficient credits */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description validation error */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description rate limited */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
                /** @description server error */
                500: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: null;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's API keys (never their secret) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The keys */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyListResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope (a read key) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create an API key (its plaintext is in this answer only) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["KeyCreateRequest"];
                };
            };
            responses: {
                /** @description The new key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyCreatedResponse"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope (a read key) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{keyId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One of the account's API keys */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    keyId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope (a read key) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such key in this account */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Revoke an API key (refused from now on) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    keyId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The revoked key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope (a read key) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such key in this account */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{keyId}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke an API key (as DELETE) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    keyId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The revoked key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyResponse"];
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope (a read key) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such key in this account */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{keyId}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate an API key: a new key, same settings; the old one works `overlap_seconds` more */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    keyId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["KeyRotateRequest"];
                };
            };
            responses: {
                /** @description The new key and the old one's new expiry */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyRotatedResponse"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope (a read key) */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such key in this account */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/credits/ledger": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's ledger, newest first (CSV: the whole range) */
        get: {
            parameters: {
                query?: {
                    /** @description One or more (comma-separated) of grant, hold, capture, release, adjustment */
                    kind?: string;
                    /** @description Unix seconds or RFC 3339, inclusive */
                    from?: string;
                    /** @description Unix seconds or RFC 3339, exclusive */
                    to?: string;
                    /** @description 1–100, default 20 (JSON only) */
                    limit?: string;
                    /** @description `next_cursor` of the previous page */
                    cursor?: string;
                    /** @description `csv`: the whole range as CSV (as `Accept: text/csv`) */
                    format?: "json" | "csv";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of entries; with `format=csv` or `Accept: text/csv`, every entry of the range as CSV (LedgerEntry's columns, times in RFC 3339) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["LedgerStatement"];
                        "text/csv": string;
                    };
                };
                /** @description invalid_request: the parameter at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable: the database cannot be reached; retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's usage: tasks and credits charged, grouped */
        get: {
            parameters: {
                query?: {
                    /** @description One or more (comma-separated) of key, model, door, provider, day; default day */
                    group_by?: string;
                    /** @description Tasks created at or after (Unix seconds or RFC 3339) */
                    from?: string;
                    /** @description Tasks created before (Unix seconds or RFC 3339) */
                    to?: string;
                    /** @description `csv`: as `Accept: text/csv` */
                    format?: "json" | "csv";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description One row per group; CSV with `format=csv` or `Accept: text/csv` */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Usage"];
                        "text/csv": string;
                    };
                };
                /** @description invalid_request: the parameter at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description key_expired, account_disabled, ip_not_allowed, or insufficient_scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description rate_limit_exceeded (Retry-After) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable: the database cannot be reached; retry */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List accounts, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: string;
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of accounts */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminAccountList"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create an account (no key; make one with the keys endpoint) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["AdminCreateAccountRequest"];
                };
            };
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminAccount"];
                        };
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An account: credits, active tasks, subscription, keys */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminAccount"];
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change an account's name, is_vip, max_active_tasks or disabled */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["AdminPatchAccountRequest"];
                };
            };
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminAccount"];
                        };
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Disable an account: its keys are refused (403) on every door */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminAccount"];
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Enable a disabled account */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminAccount"];
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/grants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Grant credits (a ledger row with its reason and actor) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["AdminGrantRequest"];
                };
            };
            responses: {
                /** @description The account's credits after */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminCreditMovement"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/adjustments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Adjust credits by a signed amount; never below 0 available */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["AdminAdjustmentRequest"];
                };
            };
            responses: {
                /** @description The account's credits after */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminCreditMovement"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description a conflict with the current state (plan name taken, subscription active, adjustment below 0) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List plans */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every plan */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                plans: components["schemas"]["AdminPlan"][];
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create a plan */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["AdminCreatePlanRequest"];
                };
            };
            responses: {
                /** @description The plan */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminPlan"];
                        };
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description a conflict with the current state (plan name taken, subscription active, adjustment below 0) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/subscriptions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's subscriptions, newest first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Its subscriptions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: {
                                subscriptions: components["schemas"]["AdminSubscription"][];
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Start a subscription; grants the plan's first month now */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["AdminStartSubscriptionRequest"];
                };
            };
            responses: {
                /** @description The subscription */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminSubscription"];
                        };
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description a conflict with the current state (plan name taken, subscription active, adjustment below 0) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/subscriptions/{subscriptionId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a subscription now */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                    subscriptionId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The subscription */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            code: number;
                            msg: string;
                            data: components["schemas"]["AdminSubscription"];
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's keys */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Its keys */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyListResponse"];
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create a key for the account (any scope; the plaintext is in this answer only) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["KeyCreateRequest"];
                };
            };
            responses: {
                /** @description The new key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyCreatedResponse"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/keys/{keyId}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke a key */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                    keyId: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyResponse"];
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/accounts/{accountId}/keys/{keyId}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate a key (the old one works for overlap_seconds more) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    accountId: string;
                    keyId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["KeyRotateRequest"];
                };
            };
            responses: {
                /** @description The new key */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["KeyRotatedResponse"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description no such account, plan, subscription or key */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Usage of every account: tasks, credits charged, upstream cost and margin
         * @description Grouped by day, account, model, door, key or provider (`group_by`), over tasks created in [from, to). `format=csv` (or `Accept: text/csv`) answers CSV.
         */
        get: {
            parameters: {
                query?: {
                    /** @description One or more (comma-separated) of account, key, model, door, provider, day; default day */
                    group_by?: string;
                    /** @description Tasks created at or after (Unix seconds or RFC 3339) */
                    from?: string;
                    /** @description Tasks created before (Unix seconds or RFC 3339) */
                    to?: string;
                    /** @description `csv`: as `Accept: text/csv` */
                    format?: "json" | "csv";
                    /** @description One account's usage */
                    account?: string;
                    /** @description Dollars per Ripen credit (default 0.005) */
                    credit_usd?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Usage rows */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminUsage"];
                    };
                };
                /** @description invalid_request: the field at fault is named */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description invalid_api_key: no admin credential, or a wrong one */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description insufficient_scope: an API key without the admin scope */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
                /** @description service_unavailable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: {
                                code: string;
                                message: string;
                                type: string;
                            };
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/ledger/check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The ledger's invariants over the whole database, and each drift
         * @description What `ripen ledger check` prints. Drift is an answer, not an error: the response is 200 with each drift's rule and rows.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The check */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminLedgerCheck"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Each provider's circuit, pause, limits, tasks in flight and last 15 minutes
         * @description Attempts started in the last 15 minutes: how many, the share that failed, start-to-end latency (p50, p95) and each provider's share of all attempts.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every declared provider */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminProviderHealth"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/queues": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Jobs per state of each queue, the oldest waiting job's age, and the board's URL */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every queue */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminQueueDepths"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/v1/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set the queue board's session cookie (HttpOnly, SameSite=Strict, Path=/admin, 12 h) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The board's URL and when the session ends */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminSession"];
                    };
                };
            };
        };
        /** Clear the queue board's session cookie */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Signed out of the board */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminSessionEnded"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        BatchCreateRequest: {
            requests: {
                model: string;
                input: {
                    [key: string]: unknown;
                };
                callback_url?: string;
                timeout_seconds?: number;
                /** @enum {string} */
                kind?: "image" | "video";
            }[];
            partial?: boolean;
            callback_url?: string | null;
        };
        ScheduleCreateRequest: {
            /** @description 5 fields, or 6 with seconds first */
            cron: string;
            /** @description IANA time zone, default UTC */
            timezone?: string;
            template: components["schemas"]["BatchCreateRequest"];
            /** @description Hears of failed runs */
            callback_url?: string | null;
        };
        SchedulePatchRequest: {
            /** @description 5 fields, or 6 with seconds first */
            cron?: string;
            /** @description IANA time zone, default UTC */
            timezone?: string;
            template?: components["schemas"]["BatchCreateRequest"];
            /** @description Hears of failed runs */
            callback_url?: string | null;
        };
        CostRequest: {
            model: string;
            input: {
                [key: string]: unknown;
            };
            callback_url?: string;
            timeout_seconds?: number;
        } | {
            requests: unknown[];
            partial?: boolean;
            callback_url?: string | null;
        } | {
            [key: string]: unknown;
        };
        KeyCreateRequest: {
            name?: string;
            /** @description Default `read` and `write`; at most the calling key's own */
            scopes?: ("read" | "write" | "admin")[];
            /** @description Unix seconds; null: never */
            expires_at?: number | null;
            /** @description CIDRs or addresses, IPv4 or IPv6; null: any address */
            ip_allowlist?: string[] | null;
            /** @description Null: the deployment's default (60) */
            rate_limit_per_minute?: number | null;
            spend_limit_hourly?: number | null;
            spend_limit_daily?: number | null;
            spend_limit_total?: number | null;
        };
        KeyRotateRequest: {
            /** @description How long the old key keeps working (default 86400, 24 h; at most 7 days) */
            overlap_seconds?: number;
        };
        AdminCreateAccountRequest: {
            name: string;
            credits?: number;
            max_active_tasks?: number | null;
            is_vip?: boolean;
        };
        AdminPatchAccountRequest: {
            name?: string;
            is_vip?: boolean;
            max_active_tasks?: number | null;
            disabled?: boolean;
        };
        AdminGrantRequest: {
            amount: number;
            reason: string;
            idempotency_key?: string;
        };
        AdminAdjustmentRequest: {
            amount: number;
            reason: string;
            idempotency_key?: string;
        };
        AdminCreatePlanRequest: {
            name: string;
            monthly_credits: number;
        };
        AdminStartSubscriptionRequest: {
            /** @description The plan's id or name */
            plan: string;
            ends_at?: number | string;
            months?: number;
        };
        TaskList: {
            code: number;
            msg: string;
            data: {
                tasks: {
                    id: string;
                    /** @enum {string} */
                    status: "pending" | "processing" | "completed" | "failed";
                    model: string;
                    created_at?: number;
                    completed_at?: number;
                    output?: {
                        urls: string[];
                        /** @default {} */
                        metadata: {
                            [key: string]: unknown;
                        };
                    };
                    error?: {
                        code: string;
                        message: string;
                    };
                }[];
                next_cursor: string | null;
            };
        };
        TaskHistory: {
            id: string;
            /** @enum {string} */
            status: "pending" | "processing" | "completed" | "failed";
            model: string;
            door: string;
            price: number;
            attempts: {
                number: number;
                provider: string;
                upstream_model: string;
                upstream_task_id: string | null;
                state: string;
                failure_kind: string | null;
                error: {
                    code: string | null;
                    message: string | null;
                } | null;
                upstream_cost: number | null;
                upstream_cost_usd: number | null;
                started_at: number | null;
                accepted_at: number | null;
                ended_at: number | null;
            }[];
            events: {
                from: string | null;
                to: string;
                source: string;
                at: number | null;
                detail?: {
                    [key: string]: unknown;
                };
            }[];
        };
        TaskDeliveries: {
            task_id: string;
            deliveries: {
                /** @description The webhook-id */
                id: string;
                event: string;
                url: string;
                state: string;
                created_at: number | null;
                next_try_at: number | null;
                ended_at: number | null;
                last_status: number | null;
                attempts: {
                    number: number;
                    at: number | null;
                    status: number | null;
                    latency_ms: number | null;
                    error: string | null;
                    excerpt: string | null;
                }[];
            }[];
        };
        Redelivery: {
            code: number;
            msg: string;
            data: components["schemas"]["Delivery"];
        };
        Delivery: {
            /** @description The webhook-id */
            id: string;
            event: string;
            url: string;
            state: string;
            created_at: number | null;
            next_try_at: number | null;
            ended_at: number | null;
            last_status: number | null;
        };
        WebhookSecret: {
            code: number;
            msg: string;
            data: {
                /** @description Standard Webhooks signing secret, `whsec_…` */
                secret: string;
                previous?: {
                    secret: string;
                    /** @description Unix seconds */
                    expires_at: number;
                };
            };
        };
        BatchCreated: {
            code: number;
            msg: string;
            data: {
                id: string;
                /** @constant */
                object: "batch";
                state: string;
                total: number;
                counts: {
                    queued: number;
                    submitting: number;
                    running: number;
                    succeeded: number;
                    failed: number;
                    canceled: number;
                    expired: number;
                };
                active: number;
                succeeded: number;
                failed: number;
                progress: number;
                credits: {
                    held: number;
                    captured: number;
                    released: number;
                    total: number;
                };
                callback_url: string | null;
                schedule_run_id: string | null;
                created_at: number | null;
                ended_at: number | null;
                /** @description When its last item was projected, at creation, to have started under the providers' limits (admission control); its generation comes on top. Null without a projection. */
                estimated_end_at: number | null;
                elapsed_ms: number;
                rejected: {
                    index: number;
                    field?: string;
                    code: string;
                    message: string;
                }[];
            };
        };
        BatchList: {
            code: number;
            msg: string;
            data: {
                batches: {
                    id: string;
                    /** @constant */
                    object: "batch";
                    state: string;
                    total: number;
                    callback_url: string | null;
                    schedule_run_id: string | null;
                    created_at: number | null;
                    ended_at: number | null;
                }[];
                next_cursor: string | null;
            };
        };
        BatchResponse: {
            code: number;
            msg: string;
            data: components["schemas"]["Batch"];
        };
        Batch: {
            id: string;
            /** @constant */
            object: "batch";
            state: string;
            total: number;
            counts: {
                queued: number;
                submitting: number;
                running: number;
                succeeded: number;
                failed: number;
                canceled: number;
                expired: number;
            };
            active: number;
            succeeded: number;
            failed: number;
            progress: number;
            credits: {
                held: number;
                captured: number;
                released: number;
                total: number;
            };
            callback_url: string | null;
            schedule_run_id: string | null;
            created_at: number | null;
            ended_at: number | null;
            /** @description When its last item was projected, at creation, to have started under the providers' limits (admission control); its generation comes on top. Null without a projection. */
            estimated_end_at: number | null;
            elapsed_ms: number;
        };
        BatchResultLine: {
            index: number;
            task_id: string;
            model: string;
            status: string;
            price: number;
            output_urls: string[];
            error_code: string | null;
            error_message: string | null;
        };
        ScheduleResponse: {
            code: number;
            msg: string;
            data: components["schemas"]["Schedule"];
        };
        Schedule: {
            id: string;
            /** @constant */
            object: "schedule";
            cron: string;
            timezone: string;
            template: {
                requests: unknown[];
                partial?: boolean;
                callback_url: string | null;
            };
            callback_url: string | null;
            state: string;
            last_run_for: string | null;
            next_run_at: string | null;
            created_at: number | null;
            updated_at: number | null;
        };
        ScheduleList: {
            code: number;
            msg: string;
            data: {
                schedules: components["schemas"]["Schedule"][];
            };
        };
        ScheduleDeleted: {
            code: number;
            msg: string;
            data: {
                id: string;
                /** @constant */
                deleted: true;
            };
        };
        ScheduleRuns: {
            code: number;
            msg: string;
            data: {
                runs: {
                    id: string;
                    /** @constant */
                    object: "schedule_run";
                    schedule_id: string;
                    scheduled_for: string;
                    state: string;
                    batch_id: string | null;
                    error: {
                        code: string;
                        message: string | null;
                    } | null;
                    created_at: number | null;
                }[];
            };
        };
        ModelsResponse: {
            code: number;
            msg: string;
            data: {
                models: components["schemas"]["Model"][];
            };
        };
        Model: {
            id: string;
            /** @enum {string} */
            kind: "image" | "video";
            parameters: {
                [key: string]: components["schemas"]["ModelParameter"];
            };
            defaults: {
                [key: string]: unknown;
            };
            prices: {
                native: unknown;
            } & {
                [key: string]: unknown;
            };
            providers: {
                id: string;
                dialect: string;
                upstream_model: string;
            }[];
            deadline_seconds: number;
            input_schema: {
                [key: string]: unknown;
            };
        };
        ModelParameter: {
            required: boolean;
            type?: string;
            enum?: unknown[];
            default?: unknown;
            minimum?: number;
            maximum?: number;
            maxLength?: number;
            minItems?: number;
            maxItems?: number;
        } & {
            [key: string]: unknown;
        };
        CostResponse: {
            code: number;
            msg: string;
            data: components["schemas"]["CostData"];
        };
        CostData: {
            credits: number;
            model?: string;
            /** @enum {string} */
            kind?: "image" | "video";
            /** @enum {string} */
            door: "native" | "nanobanana" | "kie" | "revid";
            input?: {
                [key: string]: unknown;
            };
            items?: {
                index: number;
                model: string;
                credits: number;
            }[];
            rejected?: {
                index: number;
                field?: string;
                code: string;
                message: string;
            }[];
        } & {
            [key: string]: unknown;
        };
        KeyListResponse: {
            code: number;
            msg: string;
            data: {
                keys: components["schemas"]["ApiKey"][];
            };
        };
        ApiKey: {
            id: string;
            name: string;
            /** @description The key's first characters */
            prefix: string;
            scopes: ("read" | "write" | "admin")[];
            /** @enum {string} */
            status: "active" | "expired" | "revoked";
            expires_at: number | null;
            ip_allowlist: string[] | null;
            rate_limit_per_minute: number | null;
            spend_limit_hourly: number | null;
            spend_limit_daily: number | null;
            spend_limit_total: number | null;
            rotated_to_id: string | null;
            revoked_at: number | null;
            /** @description Unix seconds */
            created_at: number;
        };
        KeyCreatedResponse: {
            code: number;
            msg: string;
            data: {
                id: string;
                name: string;
                /** @description The key's first characters */
                prefix: string;
                scopes: ("read" | "write" | "admin")[];
                /** @enum {string} */
                status: "active" | "expired" | "revoked";
                expires_at: number | null;
                ip_allowlist: string[] | null;
                rate_limit_per_minute: number | null;
                spend_limit_hourly: number | null;
                spend_limit_daily: number | null;
                spend_limit_total: number | null;
                rotated_to_id: string | null;
                revoked_at: number | null;
                /** @description Unix seconds */
                created_at: number;
                /** @description The key itself, `sk-…`: shown only here */
                key: string;
            };
        };
        KeyResponse: {
            code: number;
            msg: string;
            data: components["schemas"]["ApiKey"];
        };
        KeyRotatedResponse: {
            code: number;
            msg: string;
            data: {
                id: string;
                name: string;
                /** @description The key's first characters */
                prefix: string;
                scopes: ("read" | "write" | "admin")[];
                /** @enum {string} */
                status: "active" | "expired" | "revoked";
                expires_at: number | null;
                ip_allowlist: string[] | null;
                rate_limit_per_minute: number | null;
                spend_limit_hourly: number | null;
                spend_limit_daily: number | null;
                spend_limit_total: number | null;
                rotated_to_id: string | null;
                revoked_at: number | null;
                /** @description Unix seconds */
                created_at: number;
                /** @description The key itself, `sk-…`: shown only here */
                key: string;
                previous: components["schemas"]["ApiKey"];
            };
        };
        LedgerStatement: {
            code: number;
            msg: string;
            data: {
                entries: components["schemas"]["LedgerEntry"][];
                next_cursor: string | null;
            };
        };
        LedgerEntry: {
            id: string;
            /** @enum {string} */
            kind: "grant" | "hold" | "capture" | "release" | "adjustment";
            /** @description Credits; an adjustment's is signed */
            amount: number;
            /** @description Signed effect on the balance */
            balance_change: number;
            /** @description Signed effect on the held credits */
            held_change: number;
            balance_after: number;
            held_after: number;
            task_id: string | null;
            batch_id: string | null;
            reason: string | null;
            actor: string | null;
            /** @description Unix seconds */
            created_at: number;
        };
        Usage: {
            code: number;
            msg: string;
            data: {
                usage: components["schemas"]["UsageRow"][];
            };
        };
        UsageRow: {
            key_id?: string | null;
            model?: string;
            door?: string;
            provider?: string | null;
            /** @description UTC, YYYY-MM-DD */
            day?: string;
            tasks: number;
            charged_credits: number;
        };
        AdminAccount: {
            id: string;
            name: string;
            balance: number;
            held: number;
            available: number;
            total_granted: number;
            active_tasks: number;
            max_active_tasks: number | null;
            is_vip: boolean;
            disabled_at: number | null;
            subscription: components["schemas"]["AdminSubscription"] | null;
            /** @description API keys not revoked */
            keys: number;
            /** @description Unix seconds */
            created_at: number;
        };
        AdminSubscription: {
            id: string;
            account_id: string;
            plan: string;
            plan_id: string;
            monthly_credits: number;
            /** @description Unix seconds */
            starts_at: number;
            /** @description Unix seconds */
            ends_at: number;
            canceled_at: number | null;
        };
        AdminAccountList: {
            code: number;
            msg: string;
            data: {
                accounts: {
                    id: string;
                    name: string;
                    balance: number;
                    held: number;
                    available: number;
                    is_vip: boolean;
                    disabled_at: number | null;
                    /** @description Unix seconds */
                    created_at: number;
                }[];
                next_cursor: string | null;
            };
        };
        AdminCreditMovement: {
            code: number;
            msg: string;
            data: {
                account_id: string;
                amount: number;
                applied: boolean;
                balance: number;
                held: number;
                available: number;
            };
        };
        AdminPlan: {
            id: string;
            name: string;
            monthly_credits: number;
            /** @description Unix seconds */
            created_at: number;
        };
        AdminUsage: {
            code: number;
            msg: string;
            data: {
                usage: components["schemas"]["AdminUsageRow"][];
            };
        };
        AdminUsageRow: {
            account_id?: string;
            key_id?: string | null;
            model?: string;
            door?: string;
            provider?: string | null;
            /** @description UTC, YYYY-MM-DD */
            day?: string;
            tasks: number;
            charged_credits: number;
            charged_usd: number;
            upstream_usd: number;
            margin_usd: number;
        };
        AdminLedgerCheck: {
            code: number;
            msg: string;
            data: {
                accounts: number;
                entries: number;
                drift: {
                    rule: string;
                    /** @description The ids involved, what is, what should be */
                    row: {
                        [key: string]: unknown;
                    };
                }[];
            };
        };
        AdminProviderHealth: {
            code: number;
            msg: string;
            data: {
                id: string;
                models: string[];
                /** @enum {string} */
                circuit: "closed" | "half_open" | "open";
                paused_until: string | null;
                limits: {
                    requests_per_minute: number | null;
                    max_concurrent: number | null;
                };
                in_flight: number;
                window_minutes: number;
                attempts: number;
                failed: number;
                error_rate: number;
                latency_ms: {
                    p50: number | null;
                    p95: number | null;
                };
                traffic_share: number;
            }[];
        };
        AdminQueueDepths: {
            code: number;
            msg: string;
            data: {
                board_url: string;
                queues: {
                    name: string;
                    waiting: number;
                    prioritized: number;
                    active: number;
                    delayed: number;
                    failed: number;
                    completed: number;
                    oldest_waiting_age_ms: number | null;
                }[];
            };
        };
        AdminSession: {
            code: number;
            msg: string;
            data: {
                board_url: string;
                expires_at: number;
            };
        };
        AdminSessionEnded: {
            code: number;
            msg: string;
            data: {
                /** @constant */
                signed_out: true;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
