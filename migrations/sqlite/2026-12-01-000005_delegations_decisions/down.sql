DROP TABLE escalations;
DROP TABLE decisions;
DROP TABLE delegation_usage;
DROP TABLE delegations;
