DROP TABLE outbox_events;
DROP TABLE feedback;
DROP TABLE goal_check_ins;
DROP TABLE goals;
