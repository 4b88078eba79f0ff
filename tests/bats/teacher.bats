#!/usr/bin/env bats
# us-teacher-encode: a frozen ViT over an images stream, against PyTorch.
load helpers

# models: images at 32 x 32 and a timm-layout ViT made by PyTorch, as a
# safetensors file and as a checkpoint, with PyTorch's tokens and features.
models() {
	us-phantom --task thyroid -n 12 --size 32 --stream -o img.usj
	"$PY" "$ROOT/tests/ref/timm_vit.py" img.usj .
}

# close FILE FIELD NPY TOL: the FIELD tensors of FILE equal NPY to TOL of its largest magnitude
close() {
	py "
import msgpack, msgpack_numpy as m, numpy as np
got = np.stack([np.asarray(o['$2'], np.float64) for o in msgpack.Unpacker(open('$1', 'rb'), object_hook=m.decode, raw=False) if '$2' in o])
want = np.load('$3')
assert got.shape == want.shape, (got.shape, want.shape)
err = np.abs(got - want).max() / np.abs(want).max()
assert err <= $4, err
"
}

@test "help to stdout; a missing model or output choice is a usage error" {
	run us-teacher-encode --help
	assert_success
	assert_output --partial "usage: us-teacher-encode"
	run us-teacher-encode --tokens
	assert_failure 2
	assert_output --partial "no model"
	run us-teacher-encode -m x --tokens --pool mean
	assert_failure 2
	run us-teacher-encode -m x --pool mean --half
	assert_failure 2
	run us-teacher-encode -m x --pool max
	assert_failure 2
}

@test "a timm safetensors file written from PyTorch gives PyTorch's tokens; so does the same model as a checkpoint" {
	models
	us-teacher-encode -m vit.safetensors --heads 3 --tokens -o st.usj img.usj
	close st.usj tokens tokens.npy 1e-4
	us-teacher-encode -m vit.usj --tokens < img.usj > ck.usj
	close ck.usj tokens tokens.npy 1e-4
	us-teacher-encode -m vit.usj --pool mean -o f.usj img.usj
	close f.usj feature features.npy 1e-4
	run us-inspect --json f.usj
	assert_output --partial '"kind":"features"'
	assert_output --partial '"<f4 [48]":12'
}

@test "tokens: other fields pass through, the image and region stay behind; --half and --layer-norm" {
	models
	us-teacher-encode -m vit.usj --tokens --half --layer-norm -o h.usj img.usj
	run us-inspect --json h.usj
	assert_success
	assert_output --partial '"kind":"tokens"'
	assert_output --partial '"<f2 [16,48]":12'
	refute_output --partial '"key":"image"'
	refute_output --partial '"key":"region"'
	py "
import msgpack, msgpack_numpy as m, numpy as np
a = [o for o in msgpack.Unpacker(open('img.usj', 'rb'), object_hook=m.decode, raw=False) if 'image' in o]
b = [o for o in msgpack.Unpacker(open('h.usj', 'rb'), object_hook=m.decode, raw=False) if 'tokens' in o]
for x, y in zip(a, b):
    assert all(x[k] == y[k] for k in ('id', 'label', 'class', 'split', 'group'))
    t = np.asarray(y['tokens'], np.float64)
    assert np.abs(t.mean(axis=1)).max() < 1e-2 and np.abs(t.std(axis=1) - 1).max() < 1e-2
"
}

@test "the same input and thread count give the same bytes; shards concatenate to every record" {
	models
	us-teacher-encode -m vit.usj --tokens -j 2 -o a.usj img.usj
	us-teacher-encode -m vit.usj --tokens -j 2 -o b.usj img.usj
	cmp a.usj b.usj
	us-teacher-encode -m vit.usj --tokens --shard 0/2 -o s0.usj img.usj
	us-teacher-encode -m vit.usj --tokens --shard 1/2 -o s1.usj img.usj
	cat s0.usj s1.usj > both.usj
	run us-inspect --json both.usj
	assert_success
	assert_output --partial '"records":12,"streams":2'
}

@test "--splits encodes only those splits' records, as a whole run encodes them; a bad list is a usage error" {
	models
	us-teacher-encode -m vit.usj --pool mean -o all.usj img.usj
	us-teacher-encode -m vit.usj --pool mean --splits val,test -o vt.usj img.usj
	py "
import msgpack, msgpack_numpy as m, numpy as np
def recs(f):
    return [o for o in msgpack.Unpacker(open(f, 'rb'), object_hook=m.decode, raw=False) if 'feature' in o]
whole = {o['id']: o for o in recs('all.usj') if o['split'] in ('val', 'test')}
part = recs('vt.usj')
assert 0 < len(part) < len(recs('all.usj')), len(part)
assert sorted(o['id'] for o in part) == sorted(whole), 'not the val and test records'
for o in part:
    assert np.allclose(o['feature'], whole[o['id']]['feature'], rtol=0, atol=1e-5), o['id']
"
	run us-inspect --json vt.usj
	assert_output --partial '"splits":"val,test"'
	for bad in tests test, ,test ''; do
		run us-teacher-encode -m vit.usj --pool mean --splits "$bad" img.usj
		assert_failure 2
		assert_output --partial "--splits wants train, val or test"
	done
}

@test "an image of the wrong size, a stream of the wrong kind and a bad model are bad input (exit 3)" {
	models
	us-phantom --task thyroid -n 2 --size 48 --stream -o big.usj
	run us-teacher-encode -m vit.usj --tokens -o x.usj big.usj
	assert_failure 3
	assert_output --partial "the model takes 32x32: ingest with --size 32"
	[ ! -e x.usj ]
	us-teacher-encode -m vit.usj --pool mean -o f.usj img.usj
	run us-teacher-encode -m vit.usj --tokens -o x.usj f.usj
	assert_failure 3
	assert_output --partial "'features' stream"
	head -c 3000 vit.usj > cut.usj
	run us-teacher-encode -m cut.usj --tokens -o x.usj img.usj
	assert_failure 3
	assert_output --partial "truncated"
	run us-teacher-encode -m missing.safetensors --tokens -o x.usj img.usj
	assert_failure 3
	run us-teacher-encode -m vit.safetensors --tokens -o x.usj img.usj
	assert_failure 3
	assert_output --partial "give the model's heads with --heads"
	[ ! -e x.usj ]
}

@test "--export writes a timm-layout safetensors file that PyTorch loads and that comes back in unchanged" {
	models
	us-teacher-encode -m native.usj --export native.safetensors
	us-teacher-encode -m native.usj --tokens -o a.usj img.usj
	"$PY" "$ROOT/tests/ref/timm_vit.py" --load native.safetensors img.usj torch.npy
	close a.usj tokens torch.npy 1e-4
	us-teacher-encode -m native.safetensors --tokens -o b.usj img.usj
	close b.usj tokens torch.npy 1e-4
	run us-teacher-encode -m native.usj --export x.safetensors --tokens
	assert_failure 2
}

@test "a frozen teacher is resident once, no gradients, no file copy beside it: peak memory under 1.5x a ViT-S/16 file" {
	if ldd "$(command -v us-teacher-encode)" | grep -q libasan; then
		skip "memory is measured on the release build, not under AddressSanitizer"
	fi
	us-phantom --task thyroid -n 2 --size 224 --stream -o img224.usj
	# a timm ViT-S/16 of random weights (87 MB of f4): the file's pages are
	# given back as its tensors are copied, each copy freed as it becomes a
	# weight (1.2x; 2.1x with a file copy beside the weights, 3.0x with gradients too)
	py "
import json, struct, numpy as np
D, H, r = 384, 1536, np.random.default_rng(1)
shapes = {'patch_embed.proj.weight': (D, 3, 16, 16), 'patch_embed.proj.bias': (D,), 'cls_token': (1, 1, D),
          'pos_embed': (1, 197, D), 'norm.weight': (D,), 'norm.bias': (D,)}
for i in range(12):
    for n, s in [('norm1.weight', (D,)), ('norm1.bias', (D,)), ('attn.qkv.weight', (3 * D, D)), ('attn.qkv.bias', (3 * D,)),
                 ('attn.proj.weight', (D, D)), ('attn.proj.bias', (D,)), ('norm2.weight', (D,)), ('norm2.bias', (D,)),
                 ('mlp.fc1.weight', (H, D)), ('mlp.fc1.bias', (H,)), ('mlp.fc2.weight', (D, H)), ('mlp.fc2.bias', (D,))]:
        shapes[f'blocks.{i}.{n}'] = s
header, blobs, at = {}, [], 0
for n, s in shapes.items():
    b = (0.02 * r.standard_normal(s)).astype('<f4').tobytes()
    header[n] = {'dtype': 'F32', 'shape': list(s), 'data_offsets': [at, at + len(b)]}
    blobs.append(b)
    at += len(b)
h = json.dumps(header).encode()
h += b' ' * (-len(h) % 8)
with open('vits.safetensors', 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
"
	/usr/bin/time -f %M -o rss.kb us-teacher-encode -m vits.safetensors --heads 6 --pool mean -j 1 -o f.usj img224.usj
	size=$(stat -c %s vits.safetensors)
	rss=$(($(cat rss.kb) * 1024))
	echo "# peak RSS $rss bytes for a $size-byte model"
	[ "$rss" -lt $((size * 3 / 2)) ]
}
