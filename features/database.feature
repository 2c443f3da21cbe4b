# The database suite: MariaDB on db1 (primary) and db2 (replica) is up, holds the
# application's data, and replication keeps the replica in step with the primary.
# Run against the lab:
#   SHAKEDOWN_MYSQL_PASSWORD=$(cat .lab/mysql_password) \
#     shakedown run -i .lab/inventory.toml features/database.feature
Feature: The databases are up, replicated and hold the same data

  Scenario: Both servers can be reached by name, without a current host
    Then MySQL on "db1" should be accepting connections
    And MySQL on "db2" should be accepting connections

  @hosts:db
  Scenario: Every database server answers and holds the application's users
    Then MySQL should be accepting connections
    And the query "SELECT COUNT(*) FROM app.users" should return "42"
    And the query "SELECT 1 FROM app.users LIMIT 1" should return at least 1 row
    And MySQL should have fewer than 500 connections

  @hosts:db1
  Scenario: The primary takes writes
    Then the MySQL variable "read_only" should be "OFF"
    And the MySQL variable "log_bin" should be "ON"

  @hosts:replicas
  Scenario: The replica is read-only and keeps up with the primary
    Then the MySQL variable "read_only" should be "ON"
    And replication should be running
    And replication should be less than 5 seconds behind
    And the replica should be replicating from "db1"

  Scenario: The primary and the replica hold the same users
    Then the table "app.users" should be the same on all hosts in group "db"
