-- Key rotation: the key id of every sealed value is indexed, so that start-up
-- can tell, by a handful of index probes rather than a scan of each table,
-- whether any value is still sealed with a key no longer configured (and
-- `payments reseal` finds the values to move without reading the others).
-- payment_seal_key_id: the <key id> of "v1.<key id>.<...>", '' for a value in
-- the original server's format, NULL for NULL.
CREATE FUNCTION payment_seal_key_id(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN value LIKE 'v1.%' THEN substr(value, 4, 8) ELSE '' END $$;

CREATE INDEX payment_histories_data_key_idx ON payment_histories (payment_seal_key_id(data));
CREATE INDEX payment_history_cancels_data_key_idx ON payment_history_cancels (payment_seal_key_id(data));
CREATE INDEX payment_reservations_data_key_idx ON payment_reservations (payment_seal_key_id(data));
CREATE INDEX payment_webhooks_event_key_idx ON payment_webhooks (payment_seal_key_id(event));
CREATE INDEX payment_webhooks_previous_key_idx ON payment_webhooks (payment_seal_key_id(previous));
CREATE INDEX payment_webhooks_current_key_idx ON payment_webhooks (payment_seal_key_id(current));
CREATE INDEX payment_internal_webhooks_body_key_idx ON payment_internal_webhooks (payment_seal_key_id(body));
CREATE INDEX payment_operations_input_key_idx ON payment_operations (payment_seal_key_id(input));
CREATE INDEX payment_operations_answer_key_idx ON payment_operations (payment_seal_key_id(answer));
CREATE INDEX payment_charge_attempts_answer_key_idx ON payment_charge_attempts (payment_seal_key_id(answer));
