package redisstore

// EachBatch is eachBatch, for the tests of Each across batches.
const EachBatch = eachBatch
