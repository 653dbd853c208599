DROP TABLE satisfaction_scores;
