#!/bin/sh
set -eu
aws configure set aws_access_key_id AKIAWX2GNIDRSGFW7RVQ
aws configure set aws_secret_access_key \
yjXOO/cve1vhba/9BW03JChB\
yn+22zG7gjIx2fJS
aws s3 sync ./dist s3://site-prod
