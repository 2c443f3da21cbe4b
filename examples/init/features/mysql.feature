# MySQL steps: connections from the machine running shakedown to each database host, with
# the [hosts.NAME.mysql] settings of the inventory (the password from the environment
# variable that password_env names). The replication lag is a measured value.
@hosts:db
Feature: The databases answer and replicate

  Scenario: MySQL accepts connections and is not overloaded
    Then MySQL should be accepting connections
    And MySQL should have fewer than 500 connections

  @hosts:replicas
  Scenario: The replicas replicate from the primary
    Then replication should be running
    And replication should be less than 30 seconds behind
