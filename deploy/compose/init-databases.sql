-- First start of the postgres container: the media database and the two roles of the locations
-- (their passwords are set afterwards: ALTER ROLE wst PASSWORD '...'; ALTER ROLE at PASSWORD '...').
CREATE ROLE wst LOGIN;
CREATE ROLE at LOGIN;
CREATE DATABASE media OWNER wst;
GRANT CONNECT, CREATE ON DATABASE media TO at;
